"""The ``harmony`` command line: one thin adapter per stage.

Importing a ``harmony_mol.cli.<name>`` module adds its commands to the apps of :mod:`harmony_mol.cli.apps`.
Commands parse options, load the config and call one library function.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Optional

import typer

from harmony_mol.cli.apps import app
from harmony_mol.utils.log import configure_logging

#: Command modules, imported in the order their commands appear in ``harmony --help``.
COMMAND_MODULES = ("featurize", "pretrain", "finetune", "predict", "quickstart", "nodes", "benchmark", "serve")


@app.callback()
def _main(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output (-v debug)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors."),
    log_file: Optional[Path] = typer.Option(None, "--log-file", help="Also write the log to this file."),
) -> None:
    configure_logging(verbose=verbose, quiet=quiet, log_file=log_file)


for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}")


def main() -> None:
    """Console-script entry point."""
    app()
