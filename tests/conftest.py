"""Shared fixtures.

Tests use tiny real data: hand-written SMILES, structures built with pymatgen, and (where a test needs a
public dataset) the shared data directory beside the checkout.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
import torch

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
warnings.filterwarnings("ignore", message="Issues encountered while parsing CIF")

REPO = Path(__file__).resolve().parents[1]

# Tiny test models run fastest single-threaded, and 2-thread OpenMP on a 2-core box shared with
# the Prefect server subprocesses oversubscribes badly (measured 5-30x slower).
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _restore_torch_globals():
    """A test that changes torch's thread count or deterministic mode (fine-tuning does) must not leak it."""
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


def _shared_data_dir() -> Path | None:
    env = os.environ.get("HARMONY_DATA_DIR")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if (cand / "MANIFEST.md").is_file():
            return cand
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared public-data directory (HARMONY_DATA_DIR or ../shared/data)."""
    d = _shared_data_dir()
    if d is None:
        pytest.skip("shared data directory not available (set HARMONY_DATA_DIR)")
    return d


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


_HOLD = ("import sys, time\nfrom harmony_mol.utils.io import try_lock\n"
         "lock = try_lock(sys.argv[1])\nprint('held' if lock else 'busy', flush=True)\ntime.sleep(600)\n")


@pytest.fixture
def lock_holder():
    """Start a process that takes :func:`~harmony_mol.utils.io.try_lock` on a path and keeps it until killed."""
    import subprocess
    import sys

    procs: list[subprocess.Popen] = []

    def start(path: Path) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(path)], stdout=subprocess.PIPE, text=True, cwd=REPO)
        procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()
