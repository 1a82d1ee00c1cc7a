"""Deterministic seeding."""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed ``random``, NumPy and torch (CPU and CUDA); ``deterministic``: deterministic kernels only."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


def rng_state() -> dict[str, object]:
    """Snapshot of every RNG (for exact resume). Plain tensors/lists only (weights_only-safe)."""
    py, np_state = random.getstate(), np.random.get_state()
    state: dict[str, object] = {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": [np_state[0], torch.from_numpy(np.asarray(np_state[1]).astype(np.int64)), int(np_state[2]),
                  int(np_state[3]), float(np_state[4])],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, object]) -> None:
    """Restore a :func:`rng_state` snapshot."""
    py, np_state = state["python"], state["numpy"]
    random.setstate((py[0], tuple(py[1]), py[2]))  # type: ignore[index]
    np.random.set_state((np_state[0], np_state[1].numpy().astype(np.uint32), *np_state[2:5]))  # type: ignore[index]
    torch.set_rng_state(state["torch"])  # type: ignore[arg-type]
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])  # type: ignore[arg-type]
