"""On-disk graph datasets: build (featurize, shard, cache), load lazily, split, batch.

Public API: :func:`build_dataset`, :class:`FeaturizeConfig`, :func:`load_dataset`,
:class:`GraphDataset`, :class:`FastGraphLoader`, :func:`make_pyg_loader`, the splitters in
:mod:`harmony_mol.data.splits` and the dataset registry in :mod:`harmony_mol.data.registry`.
"""

from __future__ import annotations

from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.data.store import GraphDataset, load_dataset

__all__ = ["FeaturizeConfig", "GraphDataset", "load_dataset"]
