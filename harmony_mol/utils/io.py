"""Atomic writes, content hashing and file locks.

Every file the project writes goes through these helpers: write to a temporary sibling, flush,
then ``os.replace`` into place, so a crash leaves either the previous good file or nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from filelock import FileLock

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temp file next to ``path``; on clean exit fsync it and rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0o022)  # read by setting and restoring it
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the mode open() would
    try:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def atomic_save_figure(fig: Any, path: str | Path, dpi: int = 110, **savefig_kwargs: Any) -> Path:
    """Save a matplotlib figure as PNG atomically (parents created) and close it; returns ``path``."""
    import matplotlib.pyplot as plt

    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=dpi, **savefig_kwargs)
    plt.close(fig)
    return Path(path)


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (``str`` for what JSON cannot hold) atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` through a temp file + rename (checkpoints, shards, bundles)."""
    import torch

    with atomic_open(path, "wb") as fh:
        torch.save(obj, fh)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        pass
    return True


def try_lock(path: str | Path) -> FileLock | None:
    """Take the OS lock (``filelock.FileLock``) on ``path`` without waiting; ``None`` while it is held.

    The holder may be another process or another lock object of this one; the OS drops it when its process
    dies. Release it with ``.release()``; the (empty) lock file stays, so waiters never split across two files.
    """
    from filelock import FileLock, Timeout  # imported here: 50 ms that `harmony predict` does not need

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        return None
    return lock


def remove_stale_partials(final: str | Path) -> list[Path]:
    """Delete (and return) ``final``'s ``.<name>.<pid>.*.partial`` / ``.<name>.old-<pid>`` of dead writers."""
    final = Path(final)
    removed = []
    for p in final.parent.glob(f".{final.name}.*"):
        rest = p.name[len(final.name) + 2:]
        if rest.startswith("old-"):
            pid_text = rest[4:]
        else:
            pid_text = rest.split(".", 1)[0] if p.name.endswith(".partial") else ""
        if not pid_text.isdigit() or pid_alive(int(pid_text)):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    if removed:
        logger.warning("removed %d unfinished folder(s) left by killed runs: %s", len(removed),
                       ", ".join(q.name for q in removed))
    return removed


class RefusedPathError(ValueError):
    """An output path exists and is not ours to replace (not one of our datasets, not empty)."""


def check_replaceable(final: str | Path, marker: str | None = None) -> None:
    """Raise :class:`RefusedPathError` unless ``final`` is absent, an empty folder, or holds ``marker``.

    ``marker`` is the file that makes a folder one of ours (``manifest.json`` for datasets). A regular
    file, a symlink or a folder with other content is never replaced: it may be the user's data.
    """
    final = Path(final)
    if final.is_symlink() or (final.exists() and not final.is_dir()):
        raise RefusedPathError(f"{final}: exists and is not a folder; refusing to replace it (choose another "
                               "output path or remove it yourself)")
    if not final.exists() or (marker is not None and (final / marker).is_file()) or next(final.iterdir(), None) is None:
        return
    what = f"not one of ours (no {marker})" if marker else "not empty"
    raise RefusedPathError(f"{final}: folder exists, is not empty and is {what}; refusing to replace it "
                           "(choose another output path or remove it yourself)")


@contextlib.contextmanager
def atomic_directory(final: str | Path, marker: str | None = None) -> Iterator[Path]:
    """Build a directory under a temp name; rename it to ``final`` only if the block succeeds.

    An existing ``final`` is replaced (moved aside, then deleted) only after the new one is complete; that it
    may be replaced (:func:`check_replaceable`) is checked before any work is done and again before the rename.
    """
    final = Path(final)
    check_replaceable(final, marker)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".partial", dir=final.parent))
    try:
        yield tmp
        check_replaceable(final, marker)
        old = None
        if final.exists():
            old = final.with_name(f".{final.name}.old-{os.getpid()}")
            os.replace(final, old)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (a directory hashes its sorted file names and contents)."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode())
        with open(f, "rb") as fh:
            while block := fh.read(chunk):
                h.update(block)
    return h.hexdigest()


def sha256_text(text: str) -> str:
    """Hex SHA-256 of ``text`` (UTF-8)."""
    return hashlib.sha256(text.encode()).hexdigest()
