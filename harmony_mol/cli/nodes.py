"""``harmony benchmark nodes``: reproduce the paper's node-classification table (linear probe)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from harmony_mol.cli.apps import benchmark_app


@benchmark_app.command("nodes")
def nodes_cmd(
    datasets: Optional[str] = typer.Option(None, "--datasets", "-d",
                                           help="Comma-separated names (default: the paper's 8 available here)."),
    quick: bool = typer.Option(False, "--quick", help="Smoke test: 1 split, a few epochs."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Report directory (default data/results/nodes; "
                                       "data/results/nodes/quick with --quick, so a smoke test never "
                                       "overwrites the full results)."),
    config_dir: Path = typer.Option(Path("configs/nodes"), "--config-dir",
                                    help="Per-dataset YAML configs (<dataset>.yaml)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Config override key=value (repeatable)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch CPU threads."),
    report_only: bool = typer.Option(False, "--report-only", help="Rebuild the report from stored runs."),
) -> None:
    """Pretrain + linear-probe on each dataset; print ours beside the paper; write report.md/CSV/PNG."""
    from harmony_mol.benchmark.nodes.bench import DEFAULT_DATASETS, load_runs, rebuild_report, run_benchmark
    from harmony_mol.benchmark.nodes.report import summary_rows
    from harmony_mol.cli.errors import user_errors

    command = "harmony " + shlex.join(sys.argv[1:])
    if out is None:
        out = Path("data/results/nodes/quick") if quick else Path("data/results/nodes")
    with user_errors():  # a wrong --set key or value, or an unreadable record: one line, no traceback
        if report_only:
            rebuild_report(out, command=command)
        else:
            names = [d.strip() for d in datasets.split(",") if d.strip()] if datasets else list(DEFAULT_DATASETS)
            run_benchmark(names, out, config_dir, quick=quick, overrides=list(set_ or []), command=command,
                          threads=threads)
    rows = summary_rows(load_runs(out))
    refs = ("random_init", "raw_features", "supervised", "graphmae")
    typer.echo(f"{'dataset':<20} {'ours (val-sel.)':>16} {'code rule':>16} " + " ".join(f"{k:>12}" for k in refs)
               + f" {'+Prob':>7}")
    for r in rows:
        cells = " ".join("           –" if r.get(f"{k}_mean") is None else f"{r[f'{k}_mean']:>12.2f}" for k in refs)
        paper = "      –" if r["paper_prob"] is None else f"{r['paper_prob']:>7.2f}"
        typer.echo(f"{r['dataset']:<20} {r['ours_val_selected_mean']:>8.2f} ± {r['ours_val_selected_std']:<5.2f} "
                   f"{r['ours_test_max_mean']:>8.2f} ± {r['ours_test_max_std']:<5.2f} {cells} {paper}")
    typer.echo(f"report: {out / 'report.md'}")
