"""One-line error messages for the CLI: a user's mistake is one line naming the file and the reason.

Unreadable files (truncated or foreign checkpoints, empty files, a read-only folder) surface as a handful of
exception types from torch, pickle and the OS, reported as ``error: ...`` (``harmony -v`` logs the traceback).
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import zipfile
from collections.abc import Iterator
from typing import NoReturn

import typer

logger = logging.getLogger(__name__)

#: What a bad file or a bad path raises somewhere below a command (never a programming error class
#: such as TypeError or AttributeError, which keep their traceback).
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, OSError, EOFError, RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, KeyError,
)


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (exception type added when the message alone says nothing)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (EOFError, KeyError, pickle.UnpicklingError, zipfile.BadZipFile)):
        text = f"{type(exc).__name__}: {text}"
    if isinstance(exc, OSError) and getattr(exc, "filename", None) and str(exc.filename) not in text:
        text = f"{exc.filename}: {text}"
    return text if len(text) <= 600 else text[:597] + "..."


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn :data:`USER_ERRORS` raised inside the block into ``error: <message>`` and exit 1."""
    try:
        yield
    except typer.Exit:
        raise
    except USER_ERRORS as exc:
        logger.debug("traceback of the error below", exc_info=True)
        typer.echo(f"error: {one_line(exc)}", err=True)
        raise typer.Exit(code=1) from exc


def fail(exc: Exception, code: int = 1) -> NoReturn:
    """Print ``error: <exc>`` to stderr and exit ``code``."""
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=code) from exc


def check_set(items: list[str] | None) -> None:
    """Refuse a ``--set`` item that is not ``key=value`` (before the config is loaded)."""
    for item in items or []:
        if "=" not in item:
            raise typer.BadParameter(f"--set {item!r} must look like key=value")


def echo_fields(rows: list[tuple[str, object]], width: int = 10) -> None:
    """Print ``name value`` lines with the names in a column ``width`` wide (a command's human-readable summary)."""
    for name, value in rows:
        typer.echo(f"{name:<{width}} {value}")
