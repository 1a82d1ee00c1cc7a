"""Tiny hand-built graphs for the encoder tests (molecule-, crystal- and node-like)."""

from __future__ import annotations

import torch
from torch_geometric.data import Data

from harmony_mol.nn.inputs import InputDims

MOL_DIMS = InputDims(atom_cat_dims=(120, 4, 7), atom_float_dim=0, bond_cat_dims=(5, 3), edge_float_dim=0)
CRYSTAL_DIMS = InputDims(atom_cat_dims=(100,), atom_float_dim=6, bond_cat_dims=(), edge_float_dim=10)
NODE_DIMS = InputDims(atom_cat_dims=(), atom_float_dim=12, bond_cat_dims=(), edge_float_dim=0)


def path_edges(n: int) -> torch.Tensor:
    """Both directions of the path 0-1-...-(n-1)."""
    src = torch.arange(n - 1)
    return torch.cat([torch.stack([src, src + 1]), torch.stack([src + 1, src])], dim=1)


def make_graph(n: int, dims: InputDims, seed: int, edge_index: torch.Tensor | None = None) -> Data:
    """A random graph record following ``featurizers/schema.py`` for ``dims`` (a path unless given)."""
    g = torch.Generator().manual_seed(seed)
    ei = path_edges(n) if edge_index is None else edge_index
    e = ei.size(1)
    x = torch.stack([torch.randint(0, c, (n,), generator=g) for c in dims.atom_cat_dims], 1) if dims.atom_cat_dims \
        else torch.zeros(n, 0, dtype=torch.long)
    ea = torch.stack([torch.randint(0, c, (e,), generator=g) for c in dims.bond_cat_dims], 1) if dims.bond_cat_dims \
        else torch.zeros(e, 0, dtype=torch.long)
    return Data(
        x=x, x_feat=torch.randn(n, dims.atom_float_dim, generator=g), edge_index=ei, edge_attr=ea,
        edge_feat=torch.rand(e, dims.edge_float_dim, generator=g), y=torch.zeros(1, 0), row_id=torch.tensor([seed]),
    )


