"""On-disk graph datasets: build (featurize, shard, cache), load lazily, split, batch.

Public API: :func:`build_dataset`, :class:`FeaturizeConfig`, :func:`load_dataset`,
:class:`GraphDataset`, :class:`FastGraphLoader`, :func:`make_pyg_loader`, the splitters in
:mod:`harmony_mol.data.splits` and the dataset registry in :mod:`harmony_mol.data.registry`.
"""

from __future__ import annotations

from typing import Any

from harmony_mol.data.config import FeaturizeConfig


def __getattr__(name: str) -> Any:
    # store imports torch; keep `import harmony_mol.data.<light module>` torch-free (CLI cache check)
    if name in ("GraphDataset", "load_dataset"):
        from harmony_mol.data import store

        return getattr(store, name)
    raise AttributeError(f"module 'harmony_mol.data' has no attribute {name!r}")

__all__ = ["FeaturizeConfig", "GraphDataset", "load_dataset"]
