"""Deterministic seeding."""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int, deterministic: bool = False) -> torch.Generator:
    """Seed ``random``, NumPy and torch (CPU and CUDA); return a seeded CPU generator for loaders.

    With ``deterministic=True`` torch is asked to use deterministic kernels only.
    """
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def rng_state() -> dict[str, object]:
    """Snapshot of every RNG (for exact resume). Plain tensors/lists only (weights_only-safe)."""
    state: dict[str, object] = {
        "python": _py_state_to_plain(random.getstate()),
        "numpy": _np_state_to_plain(np.random.get_state()),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, object]) -> None:
    random.setstate(_py_state_from_plain(state["python"]))  # type: ignore[arg-type]
    np.random.set_state(_np_state_from_plain(state["numpy"]))  # type: ignore[arg-type]
    torch.set_rng_state(state["torch"])  # type: ignore[arg-type]
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])  # type: ignore[arg-type]


def _py_state_to_plain(s: tuple) -> list:
    return [s[0], list(s[1]), s[2]]


def _py_state_from_plain(s: list) -> tuple:
    return (s[0], tuple(s[1]), s[2])


def _np_state_to_plain(s: tuple) -> list:
    return [s[0], torch.from_numpy(np.asarray(s[1]).astype(np.int64)), int(s[2]), int(s[3]), float(s[4])]


def _np_state_from_plain(s: list) -> tuple:
    return (s[0], s[1].numpy().astype(np.uint32), s[2], s[3], s[4])
