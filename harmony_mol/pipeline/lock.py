"""The one run lock: ``<out_dir>/.run.lock``, a ``filelock`` taken without waiting.

Pretraining holds it for the whole run, so two overlapping runs on one directory never interleave ``last.pt``
writes: the second is refused at once. The OS frees the lock of a killed run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from harmony_mol.utils.io import try_lock


class RunLocked(RuntimeError):
    """Another run holds the run directory's lock."""


@contextlib.contextmanager
def run_lock(out_dir: str | Path) -> Iterator[Path]:
    """Hold ``<out_dir>/.run.lock`` for the block (see :func:`~harmony_mol.utils.io.try_lock`); yields its path.

    Raises:
        RunLocked: another process (or another lock object of this one) holds the lock.
    """
    path = Path(out_dir) / ".run.lock"
    if (lock := try_lock(path)) is None:
        raise RunLocked(f"another run is already using {out_dir}; refusing to start an overlapping run "
                        f"(lock file {path})")
    try:
        yield path
    finally:
        lock.release()
