"""``benchmark_flow``: run an accuracy benchmark suite, one mapped task per dataset, then the report.

Suites plug in here by name. Built now: ``nodes`` (the paper's node-classification reproduction,
:mod:`harmony_mol.nodes.bench`). Graph-level suites come from ``harmony_mol.benchmark`` (issue 6);
until that module provides ``run_benchmark`` asking for them fails with a clear message.

    python -m flows.benchmark nodes [--datasets cora citeseer] [--quick] [--out data/results/nodes]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.common import cli_logging, publish_markdown, publish_table

logger = logging.getLogger(__name__)

SUITES = ("nodes", "molecules", "crystals")


class SuiteUnavailable(RuntimeError):
    """The requested suite is not built in this installation."""


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


def _graph_suite(suite: str) -> Any:
    """``harmony_mol.benchmark.run.run_benchmark`` or :class:`SuiteUnavailable`."""
    if importlib.util.find_spec("harmony_mol.benchmark") is None or \
            importlib.util.find_spec("harmony_mol.benchmark.run") is None:
        raise SuiteUnavailable(f"benchmark suite {suite!r} is not built yet (harmony_mol.benchmark.run is missing; "
                               "issue 6); available now: 'nodes'")
    mod = importlib.import_module("harmony_mol.benchmark.run")
    if not hasattr(mod, "run_benchmark"):
        raise SuiteUnavailable(f"harmony_mol.benchmark.run has no run_benchmark(); cannot run suite {suite!r}")
    return mod.run_benchmark


@flow(name="benchmark")
def benchmark_flow(suite: str = "nodes", datasets: list[str] | None = None, out: str | None = None,
                   quick: bool = False, overrides: list[str] | None = None,
                   config_path: str | None = None) -> dict[str, Any]:
    """Run ``suite``; return ``{suite, report, rows}`` and publish a metrics table artifact.

    Raises:
        ValueError: unknown suite name.
        SuiteUnavailable: a known suite whose implementation is not installed yet.
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
        run_benchmark = _graph_suite(suite)
        from harmony_mol.config import load_config

        cfg_cls = getattr(importlib.import_module("harmony_mol.benchmark.config"), "BenchmarkConfig")
        result = run_benchmark(load_config(cfg_cls, config_path, overrides))
        report = str(getattr(result, "report_path", out or ""))
        rows = list(getattr(result, "rows", []))
    publish_table(rows, f"benchmark-{suite}", f"{suite} benchmark summary")
    publish_markdown(f"# benchmark {suite}\n\n- report: `{report}`\n- datasets: {len(rows)}\n", f"benchmark-{suite}-md")
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
