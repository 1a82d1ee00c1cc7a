"""Hardware, versions and git commit, recorded next to every checkpoint and reported number."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import torch


def hardware() -> dict[str, Any]:
    """CPU, core and thread counts, platform, Python / torch versions, GPU name and memory (GiB)."""
    info: dict[str, Any] = {
        "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(), "platform": platform.platform(),
        "python": platform.python_version(), "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    with contextlib.suppress(OSError), open("/proc/meminfo") as fh:
        info["mem_gib"] = round(int(fh.readline().split()[1]) / 2**20, 1)
    return info


def git_commit(repo: Path | None = None) -> str | None:
    """Short commit of ``repo`` (this checkout by default), ``-dirty`` if tracked files changed; ``None`` if unknown."""
    repo = repo or Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5)
        # benchmark results being written under data/results/ do not make the code dirty
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)data/results"],
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def versions() -> dict[str, str]:
    """Installed versions of the packages that decide the numbers."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("harmony-mol", "torch", "torch-geometric", "rdkit", "pymatgen", "numpy"):
        with contextlib.suppress(PackageNotFoundError):
            out[pkg] = version(pkg)
    return out
