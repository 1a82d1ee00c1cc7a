"""``finetune_flow``: fine-tune one model per (dataset, seed) as mapped tasks, then tabulate metrics.

    python -m flows.finetune --config configs/finetune/x.yaml --dataset runs/ds1 --dataset runs/ds2 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.common import cli_logging, publish_markdown, publish_table, retry_on_io
from harmony_mol.config import config_from_dict, config_to_dict, load_config
from harmony_mol.finetune.config import FinetuneConfig
from harmony_mol.finetune.train import finetune
from harmony_mol.pipeline import metrics_rows, plots_markdown

logger = logging.getLogger(__name__)


@task(name="finetune", retries=1, retry_delay_seconds=5, retry_condition_fn=retry_on_io,
      task_run_name="finetune-{label}")
def finetune_task(config: dict[str, Any], label: str = "run") -> dict[str, Any]:
    """Fine-tune; return ``{label, bundle_path, out_dir, metrics}`` (metrics = ``metrics.json`` content)."""
    res = finetune(config_from_dict(FinetuneConfig, config, where="finetune_task"))
    return {"label": label, "bundle_path": str(res.bundle_path), "out_dir": str(res.out_dir),
            "metrics": json.loads(json.dumps(res.metrics, default=float))}


def expand_runs(base: FinetuneConfig, datasets: list[str] | None, seeds: list[int] | None) -> list[dict[str, Any]]:
    """One config dict per (dataset, seed); names become ``<name>-<dataset>-s<seed>``."""
    datasets = datasets or [base.data.input]
    seeds = list(seeds) if seeds else list(base.seeds)
    runs = []
    for ds, seed in itertools.product(datasets, seeds):
        d = config_to_dict(base)
        d["data"]["input"] = ds
        d["seeds"] = [int(seed)]
        d["name"] = f"{base.name}-{Path(ds).name}-s{seed}"
        runs.append(d)
    return runs


@flow(name="finetune")
def finetune_flow(config_path: str | None = None, datasets: list[str] | None = None, seeds: list[int] | None = None,
                  overrides: list[str] | None = None, config: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Fine-tune over ``datasets x seeds`` (defaults: the config's input and seeds)."""
    cli_logging()
    if config is not None:
        base = config_from_dict(FinetuneConfig, config, where="finetune_flow.config")
    else:
        base = load_config(FinetuneConfig, config_path, overrides)
    runs = expand_runs(base, datasets, seeds)
    futures = finetune_task.map(runs, label=[r["name"] for r in runs])
    results = [f.result() for f in futures]
    table = [{"run": r["label"], **row} for r in results for row in metrics_rows(r["metrics"])]
    publish_table(table, "finetune-metrics", "Fine-tuning metrics per run (mean/std over the run's seeds)")
    publish_markdown("# finetune\n\n" + "\n".join(
        f"## {r['label']}\n\nbundle `{r['bundle_path']}`\n\n"
        + plots_markdown(sorted((Path(r["out_dir"]) / "plots").glob("*.png"))) for r in results) + "\n",
        "finetune-summary", "Fine-tuning runs with their plots")
    return results


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
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
        print(json.dumps({k: _r[k] for k in ("label", "bundle_path")}))  # noqa: T201 - command output
