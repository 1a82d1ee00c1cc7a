"""Input dimensions and the node / edge input embeddings of the encoder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class InputDims:
    """Sizes of a graph record's input fields (see ``featurizers/schema.py``).

    Args:
        atom_cat_dims: Cardinality of each categorical column of ``x``.
        atom_float_dim: Columns of ``x_feat``.
        bond_cat_dims: Cardinality of each categorical column of ``edge_attr``.
        edge_float_dim: Columns of ``edge_feat``.
    """

    atom_cat_dims: tuple[int, ...]
    atom_float_dim: int
    bond_cat_dims: tuple[int, ...]
    edge_float_dim: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "atom_cat_dims", tuple(int(v) for v in self.atom_cat_dims))
        object.__setattr__(self, "bond_cat_dims", tuple(int(v) for v in self.bond_cat_dims))
        if any(v < 1 for v in self.atom_cat_dims + self.bond_cat_dims):
            raise ValueError(f"categorical cardinalities must be >= 1: {self}")
        if self.atom_float_dim < 0 or self.edge_float_dim < 0:
            raise ValueError(f"float dims must be >= 0: {self}")

    @property
    def has_edge_features(self) -> bool:
        """Whether edges carry any (categorical or float) feature."""
        return bool(self.bond_cat_dims) or self.edge_float_dim > 0

    @classmethod
    def from_spec_dict(cls, d: dict[str, Any]) -> InputDims:
        """Build from ``FeaturizerSpec.to_dict()`` (or :meth:`to_dict`); extra keys are ignored."""
        try:
            return cls(atom_cat_dims=tuple(d["atom_cat_dims"]), atom_float_dim=int(d["atom_float_dim"]),
                       bond_cat_dims=tuple(d["bond_cat_dims"]), edge_float_dim=int(d["edge_float_dim"]))
        except KeyError as exc:
            raise ValueError(f"spec dict lacks key {exc.args[0]!r}") from exc

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; inverse of :meth:`from_spec_dict`."""
        return {"atom_cat_dims": list(self.atom_cat_dims), "atom_float_dim": self.atom_float_dim,
                "bond_cat_dims": list(self.bond_cat_dims), "edge_float_dim": self.edge_float_dim}


class CategoricalFloatEmbedding(nn.Module):
    """Sum of per-column categorical embeddings plus a linear map of float features.

    One ``nn.Embedding`` holds every column's table (rows offset per column), so the lookup is a single
    gather. Used for atoms (``x``, ``x_feat``) and bonds (``edge_attr``, ``edge_feat``). ``cat_dims`` (the
    cardinality of each categorical column) may be empty or ``float_dim`` 0, not both.

    Shapes:
        - cat: ``[M, len(cat_dims)]`` int64; feat: ``[M, float_dim]`` float32 -> ``[M, out_dim]``.
    """

    def __init__(self, cat_dims: tuple[int, ...], float_dim: int, out_dim: int) -> None:
        super().__init__()
        if not cat_dims and float_dim == 0:
            raise ValueError("cannot embed inputs with neither categorical nor float columns")
        self.out_dim = out_dim
        self.num_cat = len(cat_dims)
        self.table = nn.Embedding(sum(cat_dims), out_dim) if cat_dims else None
        offsets = torch.tensor([0, *cat_dims[:-1]], dtype=torch.long).cumsum(0) if cat_dims else torch.zeros(0)
        self.register_buffer("offsets", offsets.long(), persistent=False)
        self.lin = nn.Linear(float_dim, out_dim, bias=self.table is None) if float_dim > 0 else None
        if self.table is not None:
            nn.init.xavier_uniform_(self.table.weight)

    def forward(self, cat: Tensor | None, feat: Tensor | None) -> Tensor:
        """Embed one set of items (atoms or bonds)."""
        out: Tensor | None = None
        if self.table is not None:
            if cat is None or cat.dim() != 2 or cat.size(1) != self.num_cat:
                got = None if cat is None else tuple(cat.shape)
                raise ValueError(f"expected categorical input [M, {self.num_cat}], got {got}")
            # one bag per row: a single fused gather-and-sum over the columns (forward and backward)
            out = F.embedding_bag(cat + self.offsets, self.table.weight, mode="sum")
        if self.lin is not None:
            if feat is None or feat.dim() != 2 or feat.size(1) != self.lin.in_features:
                got = None if feat is None else tuple(feat.shape)
                raise ValueError(f"expected float input [M, {self.lin.in_features}], got {got}")
            lin = self.lin(feat)
            out = lin if out is None else out + lin
        return out  # never None: the constructor requires at least one input kind
