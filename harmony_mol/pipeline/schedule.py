"""Scheduled pretraining (``configs/deploy.yaml``): the deployment's config, flow parameters and step budget.

Overlapping runs are refused by the run directory's lock (:mod:`harmony_mol.pipeline.lock`) alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harmony_mol.models.io import load_checkpoint
from harmony_mol.pipeline.config import abs_path


@dataclass(frozen=True)
class DeployConfig:
    """A scheduled pretraining deployment (``configs/deploy.yaml``).

    Args:
        name: Deployment name (flow ``pretrain``).
        cron: Cron schedule (server time zone unless ``timezone``).
        timezone: IANA time zone of the cron schedule (``None`` = UTC).
        pretrain_config: PretrainConfig YAML.
        dataset: Featurized dataset directory (``harmony featurize`` output).
        out_dir: Fixed run directory of this deployment: every run resumes from its ``last.pt``.
        resume: Resume from ``<out_dir>/last.pt`` (keep true for scheduled runs).
        steps_per_run: Optimiser steps added by each run (0 = train to the config's epochs once).
        overrides: Extra ``key=value`` PretrainConfig overrides.
    """

    name: str = "harmony-pretrain"
    cron: str = "0 2 * * *"
    timezone: str | None = None
    pretrain_config: str = "configs/pretrain/cpu_small.yaml"
    dataset: str = ""
    out_dir: str = "runs/scheduled/pretrain"
    resume: bool = True
    steps_per_run: int = 0
    overrides: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.dataset:
            raise ValueError("deploy config: 'dataset' (a featurized dataset directory) is required")


def deployment_parameters(cfg: DeployConfig, base_dir: Path | None = None) -> dict[str, Any]:
    """``pretrain_flow``'s ``{config_path, overrides, resume, steps_per_run}`` for a deployment.

    Paths are made absolute against ``base_dir`` (default: the current directory); ``out_dir`` is fixed.
    """
    base = Path(base_dir or Path.cwd()).resolve()
    overrides = [f"dataset={abs_path(cfg.dataset, base)}", f"out_dir={abs_path(cfg.out_dir, base)}", *cfg.overrides]
    return {"config_path": str(abs_path(cfg.pretrain_config, base)), "overrides": overrides,
            "resume": cfg.resume, "steps_per_run": cfg.steps_per_run}


def next_max_steps(out_dir: str | Path, steps_per_run: int) -> int:
    """``max_steps`` of the next scheduled run: the step stored in ``<out_dir>/last.pt`` + ``steps_per_run``.

    Lets a scheduled deployment keep training the same encoder a bit further on every run (pretraining
    resumes exactly from ``last.pt``; ``max_steps`` is not part of the resume compatibility check).

    Raises:
        ValueError: ``steps_per_run`` < 1.
    """
    if steps_per_run < 1:
        raise ValueError(f"steps_per_run must be >= 1, got {steps_per_run}")
    last = Path(out_dir) / "last.pt"
    return (int(load_checkpoint(last).get("step", 0)) if last.is_file() else 0) + steps_per_run
