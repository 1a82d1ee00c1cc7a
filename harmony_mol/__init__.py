"""harmony-mol: HarmonyGNN (H3GNNs) self-supervised graph encoders for molecules and crystals.

Public API (imported lazily so ``import harmony_mol`` stays cheap):

- :func:`harmony_mol.load_dataset` — open a featurized dataset directory for PyG loaders.
- :func:`harmony_mol.build_dataset` — featurize an input file into a dataset directory.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load_dataset": ("harmony_mol.data.store", "load_dataset"),
    "build_dataset": ("harmony_mol.data.build", "build_dataset"),
    "Predictor": ("harmony_mol.predict.api", "Predictor"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'harmony_mol' has no attribute {name!r}")


__all__ = list(_LAZY) + ["__version__"]
