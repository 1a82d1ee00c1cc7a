"""``harmony quickstart``: run the Prefect quickstart pipeline (``python -m flows.pipeline``).

The CLI never imports ``flows`` (it sits above the CLI in the layering); the command replaces this
process with the flow module (``os.execv``, same interpreter), so one SIGTERM or Ctrl-C stops the whole
run and the exit code is the flow's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from harmony_mol.cli.serve import exec_module


def quickstart_cmd(
    crystal: bool = typer.Option(False, "--crystal", help="Run the crystal variant instead of molecules."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output root (default: the config's out_dir)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Pipeline YAML (default configs/quickstart.yaml)."),
    overrides: Optional[list[str]] = typer.Argument(None, help="a.b=value overrides of the pipeline YAML."),
) -> None:
    """Featurize the bundled data, pretrain a small encoder, fine-tune, predict held-out rows, print test metrics."""
    args: list[str] = []
    if config is not None:
        args += ["--config", str(config)]
    if crystal:
        args.append("--crystal")
    if out is not None:
        args += ["--out", str(out)]
    exec_module("flows.pipeline", args + list(overrides or []))


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    """Add ``harmony quickstart``."""
    app.command("quickstart")(quickstart_cmd)
