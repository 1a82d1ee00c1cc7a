"""A plain GINE encoder (Hu et al. / pretrain-gnns style), the same-size baseline of the benchmark suites.

It reads the same graph records as :class:`~harmony_mol.nn.encoder.HarmonyEncoder` (categorical and
float atom / bond inputs) and has the same interface (``out_dim``, ``forward(batch) -> [N, hidden]``),
so the fine-tuning code trains it unchanged. Its config carries ``arch: gin``, its tag in the encoder
registry (:mod:`harmony_mol.models.registry`), which is how bundles rebuild it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from harmony_mol.nn.encoder_config import GINEncoderConfig
from harmony_mol.nn.inputs import CategoricalFloatEmbedding, InputDims


class GINEncoder(nn.Module):
    """GINE layers over embedded atoms and bonds; batch norm and ReLU between layers.

    Shapes:
        - batch: ``.x [N, Ca]`` int64, ``.x_feat [N, Fa]``, ``.edge_index [2, E]``, ``.edge_attr [E, Cb]``,
          ``.edge_feat [E, Fb]`` (absent fields allowed when their size is 0)
        - output: ``[N, hidden_dim]``
    """

    def __init__(self, cfg: GINEncoderConfig, dims: InputDims) -> None:
        from torch_geometric.nn import GINEConv

        super().__init__()
        self.cfg = cfg
        self.dims = dims
        h = cfg.hidden_dim
        self.out_dim = h
        self.atom = CategoricalFloatEmbedding(dims.atom_cat_dims, dims.atom_float_dim, h)
        self.has_edges = dims.has_edge_features
        self.bonds = nn.ModuleList(
            CategoricalFloatEmbedding(dims.bond_cat_dims, dims.edge_float_dim, h) for _ in range(cfg.num_layers)
        ) if self.has_edges else None
        self.convs = nn.ModuleList(
            GINEConv(nn.Sequential(nn.Linear(h, 2 * h), nn.ReLU(), nn.Linear(2 * h, h)),
                     edge_dim=h if self.has_edges else None)
            for _ in range(cfg.num_layers))
        self.norms = nn.ModuleList(nn.BatchNorm1d(h) for _ in range(cfg.num_layers))
        self.drop = nn.Dropout(cfg.dropout)
        self.mask_token = nn.Parameter(torch.zeros(h))  # input of masked atoms (pretraining only)

    @staticmethod
    def _field(batch: Any, name: str, width: int) -> Tensor | None:
        return getattr(batch, name, None) if width else None

    def forward(self, batch: Any, node_mask: Tensor | None = None, edge_mask: Tensor | None = None) -> Tensor:
        """Node embeddings ``[N, hidden_dim]``.

        ``node_mask`` ``[N]`` bool: those atoms' input embedding is replaced by a learned mask vector and
        ``edge_mask`` ``[E]`` bool zeroes those bonds' embeddings (Hu et al. 2020 attribute masking, the
        positive control of ``harmony pretrain`` with ``encoder.arch: gin``).
        """
        d = self.dims
        h = self.atom(self._field(batch, "x", len(d.atom_cat_dims)), self._field(batch, "x_feat", d.atom_float_dim))
        if node_mask is not None:
            h = torch.where(node_mask.unsqueeze(-1), self.mask_token.to(h.dtype), h)
        ei = batch.edge_index
        ecat = self._field(batch, "edge_attr", len(d.bond_cat_dims))
        efeat = self._field(batch, "edge_feat", d.edge_float_dim)
        total: Tensor | None = None
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            e = None if self.bonds is None else self.bonds[i](ecat, efeat)
            if e is not None and edge_mask is not None:
                e = e * (~edge_mask).unsqueeze(-1).to(e.dtype)
            h = conv(h, ei) if e is None else conv(h, ei, e)
            if self.training and h.size(0) < 2:  # a 1-atom batch (e.g. methane alone): use the running stats
                h = nn.functional.batch_norm(h, norm.running_mean, norm.running_var, norm.weight, norm.bias,
                                             False, 0.0, norm.eps)
            else:
                h = norm(h)
            if i < len(self.convs) - 1:
                h = torch.relu(h)
            h = self.drop(h)
            total = h if total is None else total + h
        return total if self.cfg.jk == "sum" and total is not None else h
