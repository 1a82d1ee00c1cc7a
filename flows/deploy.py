"""Scheduled pretraining: serve ``pretrain_flow`` as a cron deployment configured from YAML.

    prefect server start --host 127.0.0.1 --port 4200          # once, in its own terminal
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    python -m flows.deploy --config configs/deploy.yaml         # registers the deployment and serves it

The serve process stays in the foreground and runs each scheduled flow run as a subprocess. Every run
uses the deployment's fixed ``out_dir`` with ``resume: true``, so it continues from the latest
``last.pt``; the deployment's concurrency limit (1, ``CANCEL_NEW``) refuses a run that comes due while
another is still going, and the run directory's lock file backs that up for manual runs.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any

from harmony_mol.config import load_config
from harmony_mol.pipeline import DeployConfig, deployment_parameters

logger = logging.getLogger(__name__)


def build_deployment(cfg: DeployConfig, base_dir: Path | None = None) -> Any:
    """The ``RunnerDeployment`` of ``pretrain_flow`` for ``cfg`` (not yet registered)."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.deployments.runner import EntrypointType

    from flows.pretrain import pretrain_flow

    schedule = CronSchedule(cron=cfg.cron, timezone=cfg.timezone or "UTC")
    limit = ConcurrencyLimitConfig(limit=cfg.concurrency_limit,
                                   collision_strategy=ConcurrencyLimitStrategy(cfg.collision_strategy))
    return pretrain_flow.to_deployment(
        name=cfg.name, schedule=schedule, parameters=deployment_parameters(cfg, base_dir),
        concurrency_limit=limit, tags=["harmony-mol", "pretrain", "scheduled"],
        description=f"Scheduled HarmonyGNN pretraining ({cfg.cron}); resumes from its out_dir",
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def serve_deployment(cfg: DeployConfig, base_dir: Path | None = None) -> None:
    """Register the deployment and serve it until interrupted (needs ``PREFECT_API_URL``)."""
    if not os.environ.get("PREFECT_API_URL"):
        raise RuntimeError(
            "scheduled runs need a Prefect server (the ephemeral mode never schedules): start one with "
            "`prefect server start --host 127.0.0.1 --port 4200` and `export PREFECT_API_URL=http://127.0.0.1:4200/api`")
    from prefect import serve

    dep = build_deployment(cfg, base_dir)
    logger.info("serving deployment pretrain/%s (cron %r) against %s", cfg.name, cfg.cron,
                os.environ["PREFECT_API_URL"])
    serve(dep, print_starting_message=True)


def main(argv: list[str] | None = None) -> None:
    """``python -m flows.deploy``."""
    ap = argparse.ArgumentParser(prog="python -m flows.deploy", description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="configs/deploy.yaml", help="deployment YAML")
    ap.add_argument("--run-once", action="store_true", help="run the deployment's flow once now, no server needed")
    ap.add_argument("overrides", nargs="*", help="key=value overrides of the deployment YAML")
    a = ap.parse_args(argv)
    from flows.common import fail

    try:
        cfg = load_config(DeployConfig, a.config, a.overrides)
        params = deployment_parameters(cfg)
        check_dataset(cfg.dataset)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    if a.run_once:
        from flows.pretrain import pretrain_flow

        pretrain_flow(**params)
        return
    try:
        serve_deployment(cfg)
    except RuntimeError as exc:
        fail(str(exc))


def check_dataset(dataset: str | Path, base_dir: Path | None = None) -> None:
    """Refuse, with one line naming the command that builds it, a deployment whose corpus is not featurized.

    Raises:
        ValueError: ``dataset`` is not a featurized dataset directory (no ``manifest.json``).
    """
    p = Path(dataset)
    p = p if p.is_absolute() else Path(base_dir or Path.cwd()) / p
    if not (p / "manifest.json").is_file():
        raise ValueError(f"{dataset}: no featurized pretraining corpus there; build it first with "
                         f"`harmony featurize --input pretrain-corpus --dedupe --output {dataset} --workers 2`")


if __name__ == "__main__":
    from flows.common import cli_logging, exit_on_sigterm

    exit_on_sigterm()
    cli_logging()
    main()
