"""harmony-mol: HarmonyGNN (H3GNNs) self-supervised graph encoders for molecules and crystals.

Public API (imported lazily so ``import harmony_mol`` stays cheap): :func:`harmony_mol.load_dataset` (open a
featurized dataset directory for PyG loaders), :func:`harmony_mol.build_dataset` (featurize an input file
into a dataset directory) and :class:`harmony_mol.Predictor`.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {"load_dataset": "harmony_mol.data.store", "build_dataset": "harmony_mol.data.build",
         "Predictor": "harmony_mol.predict.api"}


def __getattr__(name: str) -> Any:
    """Import the public names on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'harmony_mol' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = list(_LAZY) + ["__version__"]
