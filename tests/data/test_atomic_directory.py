"""atomic_directory: a failed build leaves nothing; leftovers of killed writers are swept on the next build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harmony_mol.utils.io import atomic_directory, remove_stale_partials


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_failed_block_leaves_nothing(tmp_path: Path) -> None:
    final = tmp_path / "ds"
    with pytest.raises(RuntimeError):
        with atomic_directory(final) as tmp:
            (tmp / "a").write_text("x")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_stale_partials_of_dead_writers_are_removed(tmp_path: Path) -> None:
    final = tmp_path / "ds"
    dead = _dead_pid()
    stale = tmp_path / f".ds.{dead}.abc123.partial"
    stale_old = tmp_path / f".ds.old-{dead}"
    live = tmp_path / f".ds.{os.getpid()}.zzz.partial"  # a concurrent writer (this process): kept
    other = tmp_path / f".dsx.{dead}.q.partial"  # another dataset's folder: kept
    for p in (stale, stale_old, live, other):
        p.mkdir()
    with atomic_directory(final) as tmp:
        (tmp / "ok").write_text("1")
    assert (final / "ok").read_text() == "1"
    assert not stale.exists() and not stale_old.exists() and live.exists() and other.exists()
    assert remove_stale_partials(final) == []
