"""``benchmark_flow``: run an accuracy benchmark suite, one mapped task per dataset, then the report.

Suites plug in here by name: ``nodes`` (the paper's node-classification reproduction,
:mod:`harmony_mol.nodes.bench`) and the graph-level suites of :mod:`harmony_mol.benchmark`
(``moleculenet-hu``, ``regression``, ``crystals``: a pretraining task, one task per dataset, a report task).

    python -m flows.benchmark nodes [--datasets cora citeseer] [--quick] [--out data/results/nodes]
    python -m flows.benchmark regression --config configs/benchmark/regression_cpu.yaml
    python -m flows.benchmark regression --quick
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.common import cli_logging, publish_markdown, publish_table

logger = logging.getLogger(__name__)

SUITES = ("nodes", "moleculenet-hu", "regression", "crystals")


@task(name="node-dataset", task_run_name="nodes-{dataset}")
def node_dataset_task(dataset: str, out: str, quick: bool = False, overrides: list[str] | None = None) -> dict[str, Any]:
    """One node dataset (all its splits); returns ``{dataset, summary}`` (empty summary if data missing)."""
    from harmony_mol.nodes.bench import run_one

    rec = run_one(dataset, Path(out), None, quick=quick, overrides=overrides)
    return {"dataset": dataset, "summary": (rec or {}).get("summary", {}), "available": rec is not None}


@task(name="node-report")
def node_report_task(out: str, command: str) -> str:
    """Rebuild ``report.md`` / CSV / plot from every stored run."""
    from harmony_mol.nodes.bench import rebuild_report

    return str(rebuild_report(Path(out), command=command))


@task(name="benchmark-pretrain")
def graph_pretrain_task(config: dict[str, Any]) -> dict[str, str]:
    """The pretrained encoder of every preset (existing files, or a resumable pretraining run)."""
    from harmony_mol.benchmark.config import BenchmarkConfig
    from harmony_mol.benchmark.run import ensure_checkpoint
    from harmony_mol.config import config_from_dict

    cfg = config_from_dict(BenchmarkConfig, config)
    if "harmony-pretrained" not in cfg.models:
        return {}
    from harmony_mol.benchmark.suites import SUITE_DEFS

    kind = "crystal" if cfg.suite == "crystals" else "molecule"
    return {p: str(ensure_checkpoint(cfg, p, kind)) for p in (cfg.presets or SUITE_DEFS[cfg.suite].presets)}


@task(name="benchmark-dataset", task_run_name="{dataset}")
def graph_dataset_task(config: dict[str, Any], dataset: str, command: str) -> list[dict[str, Any]]:
    """Every cell of one dataset (appends to the suite's results.csv); returns the suite's summary rows."""
    from harmony_mol.benchmark.config import BenchmarkConfig
    from harmony_mol.benchmark.run import run_benchmark
    from harmony_mol.config import config_from_dict

    res = run_benchmark(config_from_dict(BenchmarkConfig, {**config, "datasets": [dataset]}), command=command)
    return [r for r in res.rows if r["dataset"] == dataset]


@task(name="benchmark-report")
def graph_report_task(config: dict[str, Any], command: str) -> str:
    """Rewrite report.md / summary.csv / summary.png from results.csv."""
    from harmony_mol.benchmark.config import BenchmarkConfig
    from harmony_mol.benchmark.run import rebuild_report
    from harmony_mol.config import config_from_dict

    return str(rebuild_report(config_from_dict(BenchmarkConfig, config), command=command).report_path)


def graph_config(suite: str, config_path: str | None, overrides: list[str] | None, quick: bool,
                 datasets: list[str] | None, out: str | None) -> dict[str, Any]:
    """The suite's ``BenchmarkConfig`` as a plain dict (tasks pass plain data, not config objects)."""
    from harmony_mol.benchmark.config import benchmark_config
    from harmony_mol.config import config_to_dict

    return config_to_dict(benchmark_config(suite, config_path, overrides, quick=quick, datasets=datasets,
                                           out_dir=out))


@flow(name="benchmark")
def benchmark_flow(suite: str = "nodes", datasets: list[str] | None = None, out: str | None = None,
                   quick: bool = False, overrides: list[str] | None = None,
                   config_path: str | None = None) -> dict[str, Any]:
    """Run ``suite``; return ``{suite, report, rows}`` and publish a metrics table artifact.

    Raises:
        ValueError: unknown suite name, bad config.
    """
    cli_logging()
    if suite not in SUITES:
        raise ValueError(f"unknown benchmark suite {suite!r}; choose one of {SUITES}")
    if suite == "nodes":
        from harmony_mol.nodes.bench import DEFAULT_DATASETS

        names = list(datasets or DEFAULT_DATASETS)
        out_dir = out or "data/results/nodes"
        futures = node_dataset_task.map(names, out=out_dir, quick=quick, overrides=overrides)
        done = [f.result() for f in futures]
        report = node_report_task(out_dir, command=f"benchmark_flow(suite='nodes', datasets={names}, quick={quick})")
        rows = [{"dataset": d["dataset"], **{k: round(v, 3) if isinstance(v, float) else v
                                             for k, v in d["summary"].items()}} for d in done if d["available"]]
    else:
        from harmony_mol.benchmark.suites import SUITE_DEFS

        config = graph_config(suite, config_path, overrides, quick, datasets, out)
        command = f"benchmark_flow(suite={suite!r}, config_path={config_path!r}, quick={quick}, overrides={overrides})"
        ckpts = graph_pretrain_task(config)
        if ckpts:
            config["pretrain"] = {**config["pretrain"], "checkpoints": ckpts}
        rows = []
        for i, name in enumerate(config["datasets"] or SUITE_DEFS[suite].datasets):
            # one dataset after the other: they append to the same results.csv
            rows += graph_dataset_task(config if i == 0 else {**config, "resume": True}, name, command)
        report = graph_report_task({**config, "resume": True}, command)
        rows = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
    publish_table(rows, f"benchmark-{suite}", f"{suite} benchmark summary")
    from harmony_mol.pipeline import plots_markdown

    pngs = sorted(Path(report).parent.glob("*.png"))
    publish_markdown(f"# benchmark {suite}\n\n- report: `{report}`\n- datasets: {len(rows)}\n\n" + plots_markdown(pngs),
                     f"benchmark-{suite}-md", f"{suite} benchmark report with its plots")
    return {"suite": suite, "report": report, "rows": rows}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """``python -m flows.benchmark``."""
    ap = argparse.ArgumentParser(prog="python -m flows.benchmark", description=__doc__.split("\n")[0])
    ap.add_argument("suite", choices=SUITES)
    ap.add_argument("--datasets", nargs="*", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--config", default=None, help="BenchmarkConfig YAML (graph-level suites)")
    ap.add_argument("overrides", nargs="*")
    a = ap.parse_args(argv)
    return benchmark_flow(suite=a.suite, datasets=a.datasets, out=a.out, quick=a.quick, overrides=a.overrides,
                          config_path=a.config)


if __name__ == "__main__":
    cli_logging()
    main()
