"""Helpers shared by the flows: I/O-only retry condition, run-context-aware artifacts."""

from __future__ import annotations

import logging
from typing import Any

from prefect.context import FlowRunContext, TaskRunContext

logger = logging.getLogger(__name__)

#: OSErrors that no retry can fix (wrong path, no permission): fail at once.
_PERMANENT = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)


def retry_on_io(task: Any, task_run: Any, state: Any) -> bool:
    """``retry_condition_fn``: retry only transient I/O errors (never NaN losses, OOM or bad configs)."""
    exc = state.data if isinstance(state.data, BaseException) else None
    if exc is None:
        try:
            state.result()
        except BaseException as err:  # noqa: BLE001 - we only classify it
            exc = err
    return isinstance(exc, OSError) and not isinstance(exc, _PERMANENT)


def in_run() -> bool:
    """True inside a Prefect flow or task run (artifacts need one; ``.fn()`` calls have none)."""
    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def artifact_key(key: str) -> str:
    """``key`` as Prefect artifact keys allow it: lowercase letters, digits and dashes only."""
    return "".join(c if c.isalnum() else "-" for c in key.lower()).strip("-")[:100]


def publish_markdown(markdown: str, key: str, description: str = "") -> None:
    """Markdown artifact (skipped outside a run)."""
    if in_run():
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(markdown=markdown, key=artifact_key(key), description=description)


def publish_table(rows: list[dict[str, Any]], key: str, description: str = "") -> None:
    """Table artifact (skipped outside a run or when empty)."""
    if in_run() and rows:
        from prefect.artifacts import create_table_artifact

        create_table_artifact(table=rows, key=artifact_key(key), description=description)


def cli_logging() -> None:
    """Show the library's INFO progress lines (CLI entry points and every flow run, also served ones).

    Prefect attaches its console (and API) handlers to the loggers named in
    ``PREFECT_LOGGING_EXTRA_LOGGERS`` (harmony_mol, featurizers, flows) but leaves their level at the
    root's WARNING; raise them so every stage reports progress through Prefect's log.
    """
    for name in ("harmony_mol", "featurizers", "flows"):
        logging.getLogger(name).setLevel(logging.INFO)


def exit_on_sigterm() -> None:
    """Turn SIGTERM into ``SystemExit(143)`` so ``finally`` blocks and atexit hooks run.

    Prefect then stops the ephemeral API server it started and temp folders are removed: one signal stops the
    whole run, no process is left behind. Call once, in the main thread, before a command runs a flow in process.
    """
    import signal
    import sys

    def _stop(signum: int, frame: Any) -> None:
        logger.warning("SIGTERM: stopping")
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, _stop)
