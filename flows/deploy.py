"""Scheduled pretraining: serve ``pretrain_flow`` as a cron deployment configured from YAML (``harmony serve``).

    prefect server start --host 127.0.0.1 --port 4200          # once, in its own terminal
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    harmony serve --config configs/deploy.yaml                  # registers the deployment and serves it

The serve process runs each scheduled flow run as a subprocess; every run resumes from the latest ``last.pt``
of the deployment's fixed ``out_dir``, and one that comes due while another still trains ends ``Cancelled``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from harmony_mol.pipeline.schedule import DeployConfig, deployment_parameters

logger = logging.getLogger(__name__)


def build_deployment(cfg: DeployConfig, base_dir: Path | None = None) -> Any:
    """The ``RunnerDeployment`` of ``pretrain_flow`` for ``cfg``, not registered yet (paths against ``base_dir``)."""
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.deployments.runner import EntrypointType

    from flows.pretrain import pretrain_flow

    return pretrain_flow.to_deployment(
        name=cfg.name, schedule=CronSchedule(cron=cfg.cron, timezone=cfg.timezone or "UTC"),
        parameters=deployment_parameters(cfg, base_dir), tags=["harmony-mol", "pretrain", "scheduled"],
        description=f"Scheduled HarmonyGNN pretraining ({cfg.cron}); resumes from its out_dir",
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def serve_deployment(cfg: DeployConfig) -> None:
    """Register the deployment (:func:`build_deployment`) and serve it until interrupted.

    Raises:
        RuntimeError: no Prefect server configured.
    """
    if not os.environ.get("PREFECT_API_URL"):
        raise RuntimeError(
            "scheduled runs need a Prefect server (the ephemeral mode never schedules): start one with "
            "`prefect server start --host 127.0.0.1 --port 4200` and `export PREFECT_API_URL=http://127.0.0.1:4200/api`")
    from prefect import serve

    logger.info("serving deployment pretrain/%s (cron %r) against %s", cfg.name, cfg.cron,
                os.environ["PREFECT_API_URL"])
    serve(build_deployment(cfg), print_starting_message=True)


def check_dataset(dataset: str | Path) -> None:
    """Refuse, with one line naming the command that builds it, a deployment whose corpus is not featurized.

    Raises:
        ValueError: ``dataset`` is not a featurized dataset directory (no ``manifest.json``).
    """
    if not (Path(dataset) / "manifest.json").is_file():
        raise ValueError(f"{dataset}: no featurized pretraining corpus there; build it first with "
                         f"`harmony featurize --input pretrain-corpus --dedupe --output {dataset} --workers 2`")
