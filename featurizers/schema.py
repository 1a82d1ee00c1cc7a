"""The graph-record contract shared by every featurizer, the on-disk store and the models.

A *graph record* is a :class:`torch_geometric.data.Data` with these fields:

======================  =========  ==========================  ==============================================
field                   dtype      shape                       meaning
======================  =========  ==========================  ==============================================
``x``                   int64      ``[N, len(atom_cat_dims)]`` categorical node features, column ``c`` in
                                                               ``[0, atom_cat_dims[c])``
``x_feat``              float32    ``[N, atom_float_dim]``     continuous node features (may have 0 columns)
``edge_index``          int64      ``[2, E]``                  directed edges, both directions stored
``edge_attr``           int64      ``[E, len(bond_cat_dims)]`` categorical edge features (may have 0 columns)
``edge_feat``           float32    ``[E, edge_float_dim]``     continuous edge features (may have 0 columns)
``y``                   float32    ``[1, T]``                  targets, NaN = missing (T may be 0)
``row_id``              int64      ``[1]``                     0-based index of the item in its input
======================  =========  ==========================  ==============================================

Crystal records may carry extra fields (``edge_dist`` ``[E]``, ``edge_vec`` ``[E, 3]``); consumers must
ignore fields they do not know. Models read the dimensions from :class:`FeaturizerSpec`, never from
this module's constants, so a dataset's ``manifest.json`` fully describes its records.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # torch is imported lazily so reading a manifest / spec stays torch-free
    from torch_geometric.data import Data

#: Bump when any featurizer's output changes for the same input and options (invalidates caches).
FEATURIZER_VERSION = "1"

Kind = Literal["molecule", "crystal", "node"]

REQUIRED_FIELDS = ("x", "x_feat", "edge_index", "edge_attr", "edge_feat", "y", "row_id")


@dataclass(frozen=True)
class FeaturizerSpec:
    """Everything needed to reproduce a featurization and to size a model's input layers.

    Args:
        kind: ``molecule``, ``crystal`` or ``node`` (single large graph, node-level tasks).
        preset: Named feature preset, e.g. ``harmony`` (rich) or ``hu`` (Hu et al. minimal) for
            molecules, ``crystal`` for crystals.
        atom_cat_dims: Cardinality of each categorical column of ``x``.
        atom_float_dim: Number of columns of ``x_feat``.
        bond_cat_dims: Cardinality of each categorical column of ``edge_attr``.
        edge_float_dim: Number of columns of ``edge_feat``.
        options: Preset options that change the output (``max_atoms``, ``cutoff``, ...). JSON-able.
        version: :data:`FEATURIZER_VERSION` at the time of featurization.
    """

    kind: Kind
    preset: str
    atom_cat_dims: tuple[int, ...]
    atom_float_dim: int
    bond_cat_dims: tuple[int, ...]
    edge_float_dim: int
    options: dict[str, Any] = field(default_factory=dict)
    version: str = FEATURIZER_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-able data (as stored in ``manifest.json``)."""
        d = asdict(self)
        d["atom_cat_dims"] = list(self.atom_cat_dims)
        d["bond_cat_dims"] = list(self.bond_cat_dims)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeaturizerSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(kind=d["kind"], preset=d["preset"], atom_cat_dims=tuple(int(v) for v in d["atom_cat_dims"]),
                   atom_float_dim=int(d["atom_float_dim"]), bond_cat_dims=tuple(int(v) for v in d["bond_cat_dims"]),
                   edge_float_dim=int(d["edge_float_dim"]), options=dict(d.get("options", {})),
                   version=str(d.get("version", FEATURIZER_VERSION)))

    def key(self) -> str:
        """Stable hash of the spec (part of every cache key)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def validate_record(data: Data, spec: FeaturizerSpec) -> None:
    """Raise ``ValueError`` if ``data`` does not follow the contract for ``spec``."""
    import torch

    for name in REQUIRED_FIELDS:
        if getattr(data, name, None) is None:
            raise ValueError(f"graph record is missing field {name!r}")
    n, e = data.x.size(0), data.edge_index.size(1)
    checks: list[tuple[str, torch.Tensor, torch.dtype, tuple[int, int]]] = [
        ("x", data.x, torch.long, (n, len(spec.atom_cat_dims))),
        ("x_feat", data.x_feat, torch.float32, (n, spec.atom_float_dim)),
        ("edge_index", data.edge_index, torch.long, (2, e)),
        ("edge_attr", data.edge_attr, torch.long, (e, len(spec.bond_cat_dims))),
        ("edge_feat", data.edge_feat, torch.float32, (e, spec.edge_float_dim)),
    ]
    for name, t, dtype, shape in checks:
        if t.dtype != dtype:
            raise ValueError(f"{name} has dtype {t.dtype}, expected {dtype}")
        if tuple(t.shape) != shape:
            raise ValueError(f"{name} has shape {tuple(t.shape)}, expected {shape}")
    if n == 0:
        raise ValueError("graph record has no nodes")
    if e and (int(data.edge_index.min()) < 0 or int(data.edge_index.max()) >= n):
        raise ValueError("edge_index refers to a node that does not exist")
    for name, t, dims in (("x", data.x, spec.atom_cat_dims), ("edge_attr", data.edge_attr, spec.bond_cat_dims)):
        for c, card in enumerate(dims):
            if t.size(0) and (int(t[:, c].min()) < 0 or int(t[:, c].max()) >= card):
                raise ValueError(f"{name} column {c} outside [0, {card})")
    if data.y.dim() != 2 or data.y.size(0) != 1 or data.y.dtype != torch.float32:
        raise ValueError(f"y must be float32 [1, T], got {data.y.dtype} {tuple(data.y.shape)}")
