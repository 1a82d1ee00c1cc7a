"""CGCNN (Xie & Grossman, Phys. Rev. Lett. 120, 145301 (2018)), the published crystal baseline.

Built on PyG's :class:`torch_geometric.nn.CGConv` (CGCNN's gated convolution,
``x_i + BN(sum_j sigmoid(z_ij W_f + b_f) * softplus(z_ij W_s + b_s))`` with ``z_ij = [x_i || x_j || e_ij]``).
It reads our crystal records and has the encoder interface (``out_dim``, ``forward(batch) -> [N, hidden]``);
CGCNN's mean pooling and softplus head are the fine-tuning read-out ``mean`` and an ``MLPHead`` with
``activation="softplus"``. Its config carries ``arch: cgcnn``, its tag in :mod:`harmony_mol.models.registry`.
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from harmony_mol.nn.encoder_config import CGCNNEncoderConfig
from harmony_mol.nn.inputs import CategoricalFloatEmbedding, InputDims

_DISPLACEMENT_COLUMNS = 3  # dx, dy, dz / cutoff: the crystal featurizer's last edge_feat columns


class CGCNNEncoder(nn.Module):
    """Atom embedding, then ``num_layers`` CGConv layers each followed by softplus (as CGCNN's ConvLayer).

    CGCNN embeds its atom feature vector with one Linear; ours embeds the element (``x``) and the element
    properties (``x_feat``) with :class:`CategoricalFloatEmbedding`. The bonds are the Gaussian distance
    expansion only: with ``distance_only`` (the default, as CGCNN) the last three ``edge_feat`` columns
    (dx, dy, dz) are dropped. Differences from the reference code: PyG's CGConv has no batch norm on the
    gated pre-activations (CGCNN's ``bn1``), only on the summed messages (``bn2``).

    Shapes:
        - batch: ``.x [N, Ca]`` int64, ``.x_feat [N, Fa]``, ``.edge_index [2, E]`` (neighbour -> centre),
          ``.edge_feat [E, n_gaussians + 3]``
        - output: ``[N, hidden_dim]``
    """

    def __init__(self, cfg: CGCNNEncoderConfig, dims: InputDims) -> None:
        from torch_geometric.nn import CGConv

        super().__init__()
        self.edge_dim = dims.edge_float_dim - (_DISPLACEMENT_COLUMNS if cfg.distance_only else 0)
        if self.edge_dim < 1:
            raise ValueError(f"CGCNN needs the crystal distance expansion in edge_feat; got {dims.edge_float_dim} "
                             f"columns (distance_only={cfg.distance_only})")
        self.cfg, self.dims, self.out_dim = cfg, dims, cfg.hidden_dim
        self.atom = CategoricalFloatEmbedding(dims.atom_cat_dims, dims.atom_float_dim, cfg.hidden_dim)
        self.convs = nn.ModuleList(CGConv(cfg.hidden_dim, dim=self.edge_dim, batch_norm=cfg.batch_norm)
                                   for _ in range(cfg.num_layers))

    def forward(self, batch: Any, node_mask: Tensor | None = None) -> Tensor:
        """Node embeddings ``[N, hidden_dim]`` (``node_mask`` is not supported by the baseline)."""
        if node_mask is not None:
            raise ValueError("CGCNNEncoder is a supervised baseline; it takes no node mask")
        d = self.dims
        h = self.atom(batch.x if d.atom_cat_dims else None, batch.x_feat if d.atom_float_dim else None)
        e = batch.edge_feat[:, : self.edge_dim]
        for conv in self.convs:
            h = F.softplus(conv(h, batch.edge_index, e))
        return h
