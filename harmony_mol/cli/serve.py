"""``harmony serve``: serve the scheduled pretraining deployment (``python -m flows.deploy``).

The CLI never imports ``flows`` (it sits above the CLI in the layering), so the command *replaces* this
process with ``python -m flows.deploy`` (``os.execv``): there is one process, and one SIGTERM or Ctrl-C
stops everything (a child started with ``subprocess.call`` outlived a killed wrapper). Needs a Prefect
server: ``prefect server start --host 127.0.0.1 --port 4200`` and
``PREFECT_API_URL=http://127.0.0.1:4200/api``; ``--run-once`` needs none.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn, Optional

import typer


def exec_module(module: str, args: list[str]) -> NoReturn:
    """Replace this process with ``python -m <module> <args>`` (same interpreter, environment and pid)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", module, *args])


def serve_cmd(
    config: Path = typer.Option(Path("configs/deploy.yaml"), "--config", "-c", help="Deployment YAML."),
    run_once: bool = typer.Option(False, "--run-once", help="Run the deployment's flow once now (no server)."),
    overrides: Optional[list[str]] = typer.Argument(None, help="key=value overrides of the deployment YAML."),
) -> None:
    """Register the cron pretraining deployment from YAML and serve it (foreground; Ctrl-C or SIGTERM stops)."""
    args = ["--config", str(config)] + (["--run-once"] if run_once else []) + list(overrides or [])
    exec_module("flows.deploy", args)


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    """Add ``harmony serve``."""
    app.command("serve")(serve_cmd)
