"""harmony-mol: HarmonyGNN (H3GNNs) self-supervised graph encoders for molecules and crystals.

Public API (imported lazily so ``import harmony_mol`` stays cheap): :func:`harmony_mol.load_dataset` (open a
featurized dataset directory for PyG loaders), :func:`harmony_mol.build_dataset` (featurize an input file
into a dataset directory) and :class:`harmony_mol.Predictor`.
"""

from __future__ import annotations

from harmony_mol.utils.imports import lazy_attributes

__version__ = "0.1.0"

__getattr__ = lazy_attributes(__name__, {
    "load_dataset": "harmony_mol.data.store",
    "build_dataset": "harmony_mol.data.build",
    "Predictor": "harmony_mol.predict.api",
})
