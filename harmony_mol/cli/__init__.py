"""The ``harmony`` command line: one thin adapter per stage.

Each ``harmony_mol.cli.<name>`` module's ``register(app, groups)`` adds its commands to the main app or to
the ``speed`` / ``benchmark`` groups. Commands parse options, load the config and call one library function.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Optional

import typer

from harmony_mol.utils.log import configure_logging

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

#: Command modules, in the order their commands appear in ``harmony --help``.
COMMAND_MODULES = ("featurize", "pretrain", "finetune", "predict", "quickstart", "nodes", "benchmark", "serve")


@app.callback()
def _main(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output (-v debug)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors."),
    log_file: Optional[Path] = typer.Option(None, "--log-file", help="Also write the log to this file."),
) -> None:
    configure_logging(verbose=verbose, quiet=quiet, log_file=log_file)


for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}").register(app, {"speed": speed_app, "benchmark": benchmark_app})


def main() -> None:
    """Console-script entry point."""
    app()
