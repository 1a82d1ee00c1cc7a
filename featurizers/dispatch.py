"""Featurize a :class:`~featurizers.items.RawItem` with the featurizer its spec names."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch_geometric.data import Data

from featurizers.errors import FeaturizationError
from featurizers.record import arrays_to_data
from featurizers.schema import FeaturizerSpec


def to_structure(payload: Any, row_id: int, source: str, max_sites: int | None = None) -> Any:
    """The pymatgen ``Structure`` of a ``CrystalText``, a Structure dict or a Structure (else FeaturizationError)."""
    from featurizers.structures import CrystalText, structure_from_dict, structure_from_text

    if isinstance(payload, CrystalText):
        return structure_from_text(payload.fmt, payload.text, row_id, payload.source or source, max_sites)
    if isinstance(payload, dict):
        return structure_from_dict(payload, row_id, source)
    if hasattr(payload, "lattice") and hasattr(payload, "sites"):
        return payload
    raise FeaturizationError(f"cannot featurize a {type(payload).__name__} as a crystal", row_id, source)


def featurize_item_np(item: Any, spec: FeaturizerSpec) -> dict[str, np.ndarray]:
    """Featurize one ``RawItem`` into compact numpy arrays (see the ``*_np`` featurizers).

    Raises:
        FeaturizationError: the item could not be read or featurized (``row_id`` and ``source`` set).
        ValueError: ``spec.kind`` is not ``molecule`` or ``crystal``.
    """
    payload = item.payload
    if isinstance(payload, FeaturizationError):
        if payload.row_id is None:
            payload.row_id = item.row_id
        raise payload
    if spec.kind == "molecule":
        from featurizers.molecule import featurize_smiles_np

        return featurize_smiles_np(payload, spec, row_id=item.row_id)
    if spec.kind == "crystal":
        from featurizers.crystal import featurize_structure_np

        structure = to_structure(payload, item.row_id, item.item_id, int(spec.options.get("max_atoms", 500)))
        return featurize_structure_np(structure, spec, row_id=item.row_id, source=item.item_id)
    raise ValueError(f"featurize_item supports molecule and crystal specs, not {spec.kind!r}")


def featurize_item(item: Any, spec: FeaturizerSpec) -> Data:
    """Featurize one ``RawItem`` into a graph record with its targets and row id (raises as ``featurize_item_np``)."""
    return arrays_to_data(featurize_item_np(item, spec), item.targets, item.row_id)
