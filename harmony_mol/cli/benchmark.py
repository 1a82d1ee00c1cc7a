"""``harmony benchmark moleculenet-hu | regression | crystals``: graph-level accuracy suites."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from harmony_mol.cli.apps import benchmark_app
from harmony_mol.cli.errors import check_set, fail


def _run(suite: str, config: Optional[Path], quick: bool, set_: Optional[list[str]], out: Optional[Path],
         report_only: bool = False) -> None:
    from harmony_mol.benchmark.config import benchmark_config
    from harmony_mol.benchmark.run import rebuild_report, run_benchmark

    check_set(set_)
    command = "harmony " + shlex.join(sys.argv[1:])
    try:
        cfg = benchmark_config(suite, config, list(set_ or []), quick=quick, out_dir=out)
        res = rebuild_report(cfg, command=command) if report_only else run_benchmark(cfg, command=command)
    except (ValueError, FileNotFoundError) as exc:
        fail(exc)
    typer.echo(f"{'split':<16} {'dataset':<22} {'model':<20} {'preset':<8} {'test':>18}")
    for r in res.rows:
        typer.echo(f"{r['split']:<16} {r['dataset']:<22} {r['model']:<20} {r['preset']:<8} "
                   f"{r['mean']:>9.4f} ± {r['std']:.4f} ({r['n']})")
    typer.echo(f"cells run {res.n_run}, {'in results.csv' if report_only else 'reused'} {res.n_skipped}, "
               f"{res.wall_s:.0f} s")
    typer.echo(f"report: {res.report_path}")


def _command(suite: str) -> Any:
    def cmd(
        config: Optional[Path] = typer.Option(None, "--config", "-c",
                                              help="YAML BenchmarkConfig (configs/benchmark/)."),
        quick: bool = typer.Option(False, "--quick", help="Smoke run: small subsets, 2 seeds, 2 epochs (CI)."),
        set_: Optional[list[str]] = typer.Option(None, "--set", help="Config override key=value (repeatable)."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Report folder (default data/results/<suite>)."),
        report_only: bool = typer.Option(False, "--report-only",
                                         help="Rewrite report.md / summary from results.csv (e.g. of a stopped run)."),
    ) -> None:
        _run(suite, config, quick, set_, out, report_only)

    cmd.__doc__ = {
        "moleculenet-hu": "Hu et al. protocol: pretrain, then 8 MoleculeNet classification sets, scaffold split, "
                          "ROC-AUC; baselines on identical splits.",
        "regression": "ESOL, FreeSolv, Lipophilicity on scaffold and random splits, RMSE; baselines on identical "
                      "splits.",
        "crystals": "Matbench perovskites (official 5 folds) and Perov-5 heat_ref, MAE; baselines on identical splits.",
    }[suite]
    return cmd


for _suite in ("moleculenet-hu", "regression", "crystals"):
    benchmark_app.command(_suite)(_command(_suite))
