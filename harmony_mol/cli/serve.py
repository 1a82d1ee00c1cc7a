"""``harmony serve``: serve the scheduled pretraining deployment (``flows/deploy.py``) in this process.

Needs a Prefect server: ``prefect server start --host 127.0.0.1 --port 4200`` and
``PREFECT_API_URL=http://127.0.0.1:4200/api``; ``--run-once`` needs none. One SIGTERM or Ctrl-C stops it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from harmony_mol.cli.apps import app
from harmony_mol.cli.errors import user_errors


@app.command("serve")
def serve_cmd(
    config: Path = typer.Option(Path("configs/deploy.yaml"), "--config", "-c", help="Deployment YAML."),
    run_once: bool = typer.Option(False, "--run-once", help="Run the deployment's flow once now (no server)."),
    overrides: Optional[list[str]] = typer.Argument(None, help="key=value overrides of the deployment YAML."),
) -> None:
    """Register the cron pretraining deployment from YAML and serve it (foreground; Ctrl-C or SIGTERM stops)."""
    from flows.common import cli_logging, exit_on_sigterm  # flows/__init__ sets Prefect's offline defaults first
    from flows.deploy import check_dataset, serve_deployment
    from flows.pretrain import pretrain_flow
    from harmony_mol.config import load_config
    from harmony_mol.pipeline.schedule import DeployConfig, deployment_parameters

    exit_on_sigterm()
    cli_logging()
    with user_errors():
        cfg = load_config(DeployConfig, config, list(overrides or []))
        check_dataset(cfg.dataset)
        if run_once:
            pretrain_flow(**deployment_parameters(cfg))
        else:
            serve_deployment(cfg)
