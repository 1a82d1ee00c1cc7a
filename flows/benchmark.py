"""``benchmark_flow``: run an accuracy benchmark suite, one mapped task per dataset, then the report.

Suites: ``nodes`` (:mod:`harmony_mol.benchmark.nodes.bench`) and the graph-level suites of
:mod:`harmony_mol.benchmark` (a pretraining task, one task per dataset, a report task).

    python -m flows.benchmark nodes [--datasets cora citeseer] [--quick] [--out data/results/nodes]
    python -m flows.benchmark regression --config configs/benchmark/regression_cpu.yaml
    python -m flows.benchmark regression --quick
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.common import cli_logging, publish_markdown, publish_table
from harmony_mol.benchmark.config import BenchmarkConfig, benchmark_config
from harmony_mol.benchmark.run import ensure_checkpoint, rebuild_report, run_benchmark
from harmony_mol.benchmark.suites import SUITE_DEFS
from harmony_mol.pipeline.summary import plots_markdown

SUITES = ("nodes", "moleculenet-hu", "regression", "crystals")


@task(name="node-dataset", task_run_name="nodes-{dataset}")
def node_dataset_task(dataset: str, out: str, quick: bool = False,
                      overrides: list[str] | None = None) -> dict[str, Any]:
    """One node dataset (all its splits); returns ``{dataset, summary, available}`` (no data: empty summary)."""
    from harmony_mol.benchmark.nodes.bench import run_one

    rec = run_one(dataset, Path(out), None, quick=quick, overrides=overrides)
    return {"dataset": dataset, "summary": (rec or {}).get("summary", {}), "available": rec is not None}


@task(name="node-report")
def node_report_task(out: str, command: str) -> str:
    """Rebuild ``report.md`` / CSV / plot from every stored run."""
    from harmony_mol.benchmark.nodes.bench import rebuild_report

    return str(rebuild_report(Path(out), command=command))


@task(name="benchmark-pretrain")
def graph_pretrain_task(cfg: BenchmarkConfig) -> dict[str, str]:
    """The pretrained encoder of every preset (existing files, or a resumable pretraining run)."""
    if "harmony-pretrained" not in cfg.models:
        return {}
    kind = "crystal" if cfg.suite == "crystals" else "molecule"
    return {p: str(ensure_checkpoint(cfg, p, kind)) for p in (cfg.presets or SUITE_DEFS[cfg.suite].presets)}


@task(name="benchmark-dataset", task_run_name="{dataset}")
def graph_dataset_task(cfg: BenchmarkConfig, dataset: str, command: str) -> list[dict[str, Any]]:
    """Every cell of one dataset (appends to the suite's results.csv); returns the suite's summary rows."""
    res = run_benchmark(replace(cfg, datasets=(dataset,)), command=command)
    return [r for r in res.rows if r["dataset"] == dataset]


@task(name="benchmark-report")
def graph_report_task(cfg: BenchmarkConfig, command: str) -> str:
    """Rewrite report.md / summary.csv / summary.png from results.csv."""
    return str(rebuild_report(cfg, command=command).report_path)


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
        from harmony_mol.benchmark.nodes.bench import DEFAULT_DATASETS

        names = list(datasets or DEFAULT_DATASETS)
        out_dir = out or "data/results/nodes"
        futures = node_dataset_task.map(names, out=out_dir, quick=quick, overrides=overrides)
        done = [f.result() for f in futures]
        report = node_report_task(out_dir, command=f"benchmark_flow(suite='nodes', datasets={names}, quick={quick})")
        rows = [{"dataset": d["dataset"], **{k: round(v, 3) if isinstance(v, float) else v
                                             for k, v in d["summary"].items()}} for d in done if d["available"]]
    else:
        cfg = benchmark_config(suite, config_path, overrides, quick=quick, datasets=datasets, out_dir=out)
        command = f"benchmark_flow(suite={suite!r}, config_path={config_path!r}, quick={quick}, overrides={overrides})"
        ckpts = graph_pretrain_task(cfg)
        if ckpts:
            cfg = replace(cfg, pretrain=replace(cfg.pretrain, checkpoints=ckpts))
        rows = []
        for i, name in enumerate(cfg.datasets or SUITE_DEFS[suite].datasets):
            # one dataset after the other: they append to the same results.csv
            rows += graph_dataset_task(cfg if i == 0 else replace(cfg, resume=True), name, command)
        report = graph_report_task(replace(cfg, resume=True), command)
        rows = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
    publish_table(rows, f"benchmark-{suite}", f"{suite} benchmark summary")
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
