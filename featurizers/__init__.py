"""Turn molecules (SMILES) and crystals (CIF / POSCAR / extxyz / pymatgen dicts) into graph records.

This package knows nothing about models, training or Prefect. See :mod:`featurizers.schema` for the
graph-record contract every featurizer produces. Submodules (``molecule``, ``crystal``, ``readers``)
import RDKit / pymatgen, so import them explicitly; this package root stays light.
"""

from __future__ import annotations

from typing import Any

from featurizers.errors import FeaturizationError
from featurizers.schema import FEATURIZER_VERSION, FeaturizerSpec, validate_record


def __getattr__(name: str) -> Any:
    # the dispatchers pull in RDKit, pymatgen and PyG: imported on first use only
    if name in ("featurize_item", "featurize_item_np"):
        from featurizers import dispatch

        return getattr(dispatch, name)
    raise AttributeError(f"module 'featurizers' has no attribute {name!r}")


__all__ = ["FEATURIZER_VERSION", "FeaturizationError", "FeaturizerSpec", "featurize_item", "featurize_item_np",
           "validate_record"]
