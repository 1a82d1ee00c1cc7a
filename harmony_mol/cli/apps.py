"""The ``harmony`` Typer apps: the main app and its ``speed`` / ``benchmark`` groups; commands add themselves."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="harmony",
    help="HarmonyGNN for molecules and crystals: featurize, pretrain (self-supervised), fine-tune, predict.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
speed_app = typer.Typer(help="Throughput figures (prints items/s; --json for machine-readable output).",
                        no_args_is_help=True)
benchmark_app = typer.Typer(help="Accuracy benchmark suites (reports under data/results/<suite>/).",
                            no_args_is_help=True)
app.add_typer(speed_app, name="speed")
app.add_typer(benchmark_app, name="benchmark")
