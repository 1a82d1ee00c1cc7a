"""``finetune_flow``: fine-tune one model per (dataset, seed) as mapped tasks, then tabulate metrics.

Example::

    python -m flows.finetune --config configs/finetune/x.yaml --dataset runs/ds1 --dataset runs/ds2 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import replace
from pathlib import Path

from prefect import flow, task

from flows.common import cli_logging, publish_markdown, publish_table, retry_on_io
from harmony_mol.config import load_config
from harmony_mol.finetune.config import FinetuneConfig
from harmony_mol.finetune.train import FinetuneResult, finetune
from harmony_mol.pipeline.summary import metrics_rows, plots_markdown

finetune_task = task(name="finetune", retries=1, retry_delay_seconds=5, retry_condition_fn=retry_on_io,
                     task_run_name="finetune-{cfg.name}")(finetune)


def expand_runs(base: FinetuneConfig, datasets: list[str] | None, seeds: list[int] | None) -> list[FinetuneConfig]:
    """One config per (dataset, seed), datasets outer; names become ``<name>-<dataset>-s<seed>``.

    Args:
        base: The config every run starts from.
        datasets: Dataset dirs or raw inputs (default: ``base.data.input``).
        seeds: Seeds (default: ``base.seeds``).
    """
    pairs = itertools.product(datasets or [base.data.input], list(seeds) if seeds else list(base.seeds))
    return [replace(base, data=replace(base.data, input=ds), seeds=(int(seed),),
                    name=f"{base.name}-{Path(ds).name}-s{seed}") for ds, seed in pairs]


@flow(name="finetune")
def finetune_flow(config_path: str | None = None, datasets: list[str] | None = None, seeds: list[int] | None = None,
                  overrides: list[str] | None = None) -> list[FinetuneResult]:
    """Fine-tune the FinetuneConfig YAML (with ``key=value`` overrides) once per :func:`expand_runs` config."""
    cli_logging()
    futures = finetune_task.map(expand_runs(load_config(FinetuneConfig, config_path, overrides), datasets, seeds))
    results = [f.result() for f in futures]
    table = [{"run": r.out_dir.name, **row} for r in results for row in metrics_rows(r.metrics)]
    publish_table(table, "finetune-metrics", "Fine-tuning metrics per run (mean/std over the run's seeds)")
    publish_markdown("# finetune\n\n" + "\n".join(
        f"## {r.out_dir.name}\n\nbundle `{r.bundle_path}`\n\n"
        + plots_markdown(sorted((r.out_dir / "plots").glob("*.png"))) for r in results) + "\n",
        "finetune-summary", "Fine-tuning runs with their plots")
    return results


def main(argv: list[str] | None = None) -> list[FinetuneResult]:
    """``python -m flows.finetune``."""
    ap = argparse.ArgumentParser(prog="python -m flows.finetune", description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="FinetuneConfig YAML")
    ap.add_argument("--dataset", action="append", default=None, help="dataset dir or raw input (repeatable)")
    ap.add_argument("--seeds", type=int, nargs="*", default=None)
    ap.add_argument("overrides", nargs="*", help="key=value overrides")
    a = ap.parse_args(argv)
    return finetune_flow(config_path=a.config, datasets=a.dataset, seeds=a.seeds, overrides=a.overrides)


if __name__ == "__main__":
    cli_logging()
    for _r in main():
        print(json.dumps({"label": _r.out_dir.name, "bundle_path": str(_r.bundle_path)}))
