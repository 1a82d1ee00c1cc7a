"""Turn molecules (SMILES) and crystals (CIF / POSCAR / extxyz / pymatgen dicts) into graph records.

This package knows nothing about models, training or Prefect. See :mod:`featurizers.schema` for the
graph-record contract every featurizer produces. Submodules (``molecule``, ``crystal``, ``readers``)
import RDKit / pymatgen, so import them explicitly; this package root stays light.
"""

from __future__ import annotations

from featurizers.dispatch import featurize_item, featurize_item_np
from featurizers.errors import FeaturizationError, Rejected
from featurizers.schema import FEATURIZER_VERSION, FeaturizerSpec, validate_record

__all__ = [
    "FEATURIZER_VERSION",
    "FeaturizationError",
    "FeaturizerSpec",
    "Rejected",
    "featurize_item",
    "featurize_item_np",
    "validate_record",
]
