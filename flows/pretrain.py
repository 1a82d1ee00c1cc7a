"""``pretrain_flow``: one task around :func:`harmony_mol.pipeline.run.pretrain_locked`; returns the checkpoint path.

A run that finds the run directory locked (:mod:`harmony_mol.pipeline.lock`) ends ``Cancelled`` without
touching it. ``steps_per_run: N`` trains N more steps on every run (scheduled deployments); ``nproc: N`` > 1
trains data-parallel on N local processes through ``torchrun``.

    python -m flows.pretrain --config configs/pretrain/cpu_small.yaml dataset=runs/ds out_dir=runs/pt [--resume]
    python -m flows.pretrain --config configs/pretrain/zinc.yaml --nproc 4 --resume
"""

from __future__ import annotations

import argparse
import csv
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.states import Cancelled, State

from flows.common import cli_logging, publish_markdown, publish_table, retry_on_io
from harmony_mol.config import load_config
from harmony_mol.pipeline.lock import RunLocked
from harmony_mol.pipeline.run import pretrain_locked
from harmony_mol.pipeline.schedule import next_max_steps
from harmony_mol.pipeline.summary import plots_markdown
from harmony_mol.ssl.config import PretrainConfig

logger = logging.getLogger(__name__)

#: Retried only on transient I/O errors.
pretrain_task = task(name="pretrain", retries=1, retry_delay_seconds=10,
                     retry_condition_fn=retry_on_io)(pretrain_locked)


@flow(name="pretrain")
def pretrain_flow(config_path: str | None = None, overrides: list[str] | None = None, resume: bool = True,
                  steps_per_run: int = 0, nproc: int = 1) -> str | State:
    """Pretrain an encoder; return its checkpoint path, or a ``Cancelled`` state while another run holds the lock.

    Args:
        config_path: PretrainConfig YAML.
        overrides: ``key=value`` overrides (e.g. ``dataset=...``, ``out_dir=...``).
        resume: Continue from ``<out_dir>/last.pt`` when present.
        steps_per_run: If > 0, set ``max_steps`` to the checkpoint's step + this (scheduled runs).
        nproc: Processes (GPUs), as for :func:`~harmony_mol.pipeline.run.pretrain_locked`.
    """
    cli_logging()
    cfg = load_config(PretrainConfig, config_path, overrides)
    if steps_per_run > 0:
        cfg = replace(cfg, max_steps=next_max_steps(cfg.out_dir, steps_per_run))
        logger.info("this run trains up to step %d", cfg.max_steps)
    try:
        path = str(pretrain_task(cfg, resume=resume, nproc=nproc))
    except RunLocked as exc:  # a run that comes due while another still trains ends here, touching nothing
        logger.warning("%s", exc)
        return Cancelled(message=str(exc))
    curve = Path(cfg.out_dir) / "loss.csv"
    rows = list(csv.DictReader(curve.read_text().splitlines()))[-10:] if curve.is_file() else []
    publish_table(rows, "pretrain-loss", f"Last loss-curve rows of {curve}")
    steps = rows[-1].get("step") if rows else "n/a"
    publish_markdown(f"# pretrain\n\n- checkpoint: `{path}`\n- steps so far: {steps}\n\n"
                     + plots_markdown([Path(cfg.out_dir) / "loss.png"]), "pretrain-summary",
                     "Pretraining checkpoint and loss curve")
    return path


def main(argv: list[str] | None = None) -> Any:
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
    print(main())
