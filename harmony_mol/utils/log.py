"""Logging setup for the CLI (the library itself only creates module loggers)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def configure_logging(verbose: int = 0, quiet: bool = False, log_file: Path | None = None) -> None:
    """Install handlers on the root logger: stderr (and optionally a file)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file))
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        h.setFormatter(fmt)
        root.addHandler(h)
    root.setLevel(logging.WARNING if quiet else (logging.DEBUG if verbose > 0 else logging.INFO))
    for noisy in ("deepchem", "matplotlib", "PIL", "httpx", "prefect.server"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def progress_enabled(flag: bool | None = None) -> bool:
    """Progress bars on when asked, or by default when stderr is a terminal."""
    return sys.stderr.isatty() if flag is None else flag
