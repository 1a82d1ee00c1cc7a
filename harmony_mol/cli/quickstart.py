"""``harmony quickstart``: the Prefect quickstart pipeline (``flows/pipeline.py``), run in this process.

Through the flow, not :func:`harmony_mol.pipeline.run.run_pipeline` alone, so the README's main job shows what
a deployment does. One SIGTERM or Ctrl-C stops the whole run, the ephemeral Prefect server included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from harmony_mol.cli.apps import app


@app.command("quickstart")
def quickstart_cmd(
    crystal: bool = typer.Option(False, "--crystal", help="Run the crystal variant instead of molecules."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output root (default: the config's out_dir)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c",
                                          help="Pipeline YAML (default configs/quickstart.yaml)."),
    overrides: Optional[list[str]] = typer.Argument(None, help="a.b=value overrides of the pipeline YAML."),
) -> None:
    """Featurize the bundled data, pretrain a small encoder, fine-tune, predict held-out rows, print test metrics."""
    from flows.common import exit_on_sigterm  # flows/__init__ sets Prefect's offline defaults before prefect loads
    from flows.pipeline import quickstart

    exit_on_sigterm()
    quickstart(str(config) if config else None, "crystal" if crystal else "molecule", str(out) if out else None,
               list(overrides or []))
