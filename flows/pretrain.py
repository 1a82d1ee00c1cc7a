"""``pretrain_flow``: one task around :func:`harmony_mol.ssl.pretrain.pretrain`; returns the checkpoint path.

The run directory is locked (``<out_dir>/.run.lock``) for the duration, so two overlapping runs on the
same directory never interleave checkpoint writes: the second fails at once with a clear message
(scheduled deployments additionally use a deployment concurrency limit of 1). ``resume: true``
continues exactly from ``<out_dir>/last.pt``; ``steps_per_run: N`` trains N more steps on every run
(what a scheduled deployment uses). ``nproc: N`` > 1 trains data-parallel on N local processes
through ``torchrun`` (one per GPU; gloo on CPU), with the run lock held by the flow.

    python -m flows.pretrain --config configs/pretrain/cpu_small.yaml dataset=runs/ds out_dir=runs/pt [--resume]
    python -m flows.pretrain --config configs/pretrain/zinc.yaml --nproc 4 --resume
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.common import cli_logging, publish_markdown, publish_table, retry_on_io
from harmony_mol.config import config_from_dict, config_to_dict, load_config, parse_overrides
from harmony_mol.pipeline import acquire_run_lock, next_max_steps, plots_markdown
from harmony_mol.ssl.config import PretrainConfig
from harmony_mol.ssl.launch import run_torchrun
from harmony_mol.ssl.pretrain import pretrain

logger = logging.getLogger(__name__)


@task(name="pretrain", retries=1, retry_delay_seconds=10, retry_condition_fn=retry_on_io)
def pretrain_task(config: dict[str, Any], resume: bool = True, nproc: int = 1) -> str:
    """Pretrain (or resume), in-process or on ``nproc`` torchrun processes; return the ``encoder.pt`` path.

    Retried only on transient I/O errors.
    """
    cfg = config_from_dict(PretrainConfig, config, where="pretrain_task")
    lock = acquire_run_lock(cfg.out_dir)
    try:
        if nproc > 1:
            return str(run_torchrun(cfg, nproc, resume))
        return str(pretrain(cfg, resume=resume))
    finally:
        lock.release()


def resolve_pretrain_config(config_path: str | None = None, overrides: list[str] | None = None,
                            config: dict[str, Any] | None = None) -> PretrainConfig:
    """A PretrainConfig from a YAML file and/or a dict, plus ``key=value`` overrides."""
    if config is not None:
        base = config_from_dict(PretrainConfig, config, where="pretrain_flow.config")
        return load_config(PretrainConfig, None, {**config_to_dict(base), **parse_overrides(overrides)}) \
            if overrides else base
    return load_config(PretrainConfig, config_path, overrides)



@flow(name="pretrain")
def pretrain_flow(config_path: str | None = None, overrides: list[str] | None = None,
                  config: dict[str, Any] | None = None, resume: bool = True, steps_per_run: int = 0,
                  nproc: int = 1) -> str:
    """Pretrain an encoder; return its checkpoint path.

    Args:
        config_path: PretrainConfig YAML.
        overrides: ``key=value`` overrides (e.g. ``dataset=...``, ``out_dir=...``).
        config: A full config dict instead of / under the YAML (used by ``pipeline_flow``).
        resume: Continue from ``<out_dir>/last.pt`` when present.
        steps_per_run: If > 0, set ``max_steps`` to the checkpoint's step + this (scheduled runs).
        nproc: Processes (GPUs) to train on; > 1 launches ``torchrun --standalone`` (``batch_size`` per process).
    """
    cli_logging()
    cfg = resolve_pretrain_config(config_path, overrides, config)
    if steps_per_run > 0:
        budget = next_max_steps(cfg.out_dir, steps_per_run)
        cfg = config_from_dict(PretrainConfig, {**config_to_dict(cfg), "max_steps": budget})
        logger.info("this run trains up to step %d", budget)
    path = pretrain_task(config_to_dict(cfg), resume=resume, nproc=nproc)
    curve = Path(cfg.out_dir) / "loss.csv"
    rows = _curve_tail(curve)
    publish_table(rows, "pretrain-loss", f"Last loss-curve rows of {curve}")
    publish_markdown(f"# pretrain\n\n- checkpoint: `{path}`\n- steps so far: {rows[-1].get('step') if rows else 'n/a'}\n\n"
                     + plots_markdown([Path(cfg.out_dir) / "loss.png"]), "pretrain-summary",
                     "Pretraining checkpoint and loss curve")
    return path


def _curve_tail(path: Path, n: int = 10) -> list[dict[str, Any]]:
    import csv

    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))[-n:]


def main(argv: list[str] | None = None) -> str:
    """``python -m flows.pretrain``."""
    ap = argparse.ArgumentParser(prog="python -m flows.pretrain", description=__doc__.split("\n")[0])
    ap.add_argument("--config", default=None, help="PretrainConfig YAML")
    ap.add_argument("--resume", action="store_true", help="continue from <out_dir>/last.pt")
    ap.add_argument("--steps-per-run", type=int, default=0)
    ap.add_argument("--nproc", type=int, default=1, help="data-parallel processes via torchrun (one per GPU)")
    ap.add_argument("overrides", nargs="*", help="key=value overrides")
    a = ap.parse_args(argv)
    return pretrain_flow(config_path=a.config, overrides=a.overrides, resume=a.resume, steps_per_run=a.steps_per_run,
                         nproc=a.nproc)


if __name__ == "__main__":
    cli_logging()
    print(main())  # noqa: T201 - command output
