"""Fixtures for the encoder tests."""

from __future__ import annotations

import pytest
from torch_geometric.data import Batch

from .nn_graphs import MOL_DIMS, make_graph


@pytest.fixture
def mol_batch() -> Batch:
    """Three molecule-like graphs (5, 7 and 4 atoms)."""
    return Batch.from_data_list([make_graph(n, MOL_DIMS, seed=i) for i, n in enumerate((5, 7, 4))])

