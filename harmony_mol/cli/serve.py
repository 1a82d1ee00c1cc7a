"""``harmony serve``: serve the scheduled pretraining deployment (``python -m flows.deploy``).

Runs the flow module in a child process (the CLI never imports ``flows``). Needs a Prefect server:
``prefect server start --host 127.0.0.1 --port 4200`` and ``PREFECT_API_URL=http://127.0.0.1:4200/api``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer


def serve_cmd(
    config: Path = typer.Option(Path("configs/deploy.yaml"), "--config", "-c", help="Deployment YAML."),
    run_once: bool = typer.Option(False, "--run-once", help="Run the deployment's flow once now (no server)."),
    overrides: Optional[list[str]] = typer.Argument(None, help="key=value overrides of the deployment YAML."),
) -> None:
    """Register the cron pretraining deployment from YAML and serve it (foreground; Ctrl-C stops)."""
    cmd = [sys.executable, "-m", "flows.deploy", "--config", str(config)]
    if run_once:
        cmd.append("--run-once")
    cmd += list(overrides or [])
    raise typer.Exit(code=subprocess.call(cmd))


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    """Add ``harmony serve``."""
    app.command("serve")(serve_cmd)
