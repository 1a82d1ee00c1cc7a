"""``harmony quickstart``: run the Prefect quickstart pipeline (``python -m flows.pipeline``).

The CLI never imports ``flows`` (it sits above the CLI in the layering); it starts the flow module
in a child process with the same interpreter and passes its exit code through.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer


def quickstart_cmd(
    crystal: bool = typer.Option(False, "--crystal", help="Run the crystal variant instead of molecules."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output root (default: the config's out_dir)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Pipeline YAML (default configs/quickstart.yaml)."),
    overrides: Optional[list[str]] = typer.Argument(None, help="a.b=value overrides of the pipeline YAML."),
) -> None:
    """Featurize the bundled data, pretrain a small encoder, fine-tune, predict and print test metrics."""
    cmd = [sys.executable, "-m", "flows.pipeline"]
    if config is not None:
        cmd += ["--config", str(config)]
    if crystal:
        cmd.append("--crystal")
    if out is not None:
        cmd += ["--out", str(out)]
    cmd += list(overrides or [])
    raise typer.Exit(code=subprocess.call(cmd))


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    """Add ``harmony quickstart``."""
    app.command("quickstart")(quickstart_cmd)
