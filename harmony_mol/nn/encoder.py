"""The HarmonyGNN encoder: joint structural node encoding (H3GNNs §3) adapted to batches of graphs.

Per node, ``S = K + 2`` tokens ``[linear, wgcn_1..wgcn_K, mlp]`` are built from the node input ``h0``,
one Transformer block attends over each node's tokens (never across nodes, so graphs in a batch never
interact outside the WGCN message passing, which follows edges only), and a read-out fuses the tokens.
All matmuls that consume ``h0`` (linear token, first MLP layer, first layer of every WGCN stack) run as
ONE ``Linear(in_dim, k·d)``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from harmony_mol.nn.attention import TokenAttentionBlock
from harmony_mol.nn.encoder_config import HarmonyEncoderConfig
from harmony_mol.nn.fusion import TokenFusion
from harmony_mol.nn.inputs import CategoricalFloatEmbedding, InputDims
from harmony_mol.nn.wgcn import BRANCH_NORMS, WGCNStack


class HarmonyEncoder(nn.Module):
    """HarmonyGNN node encoder for molecules, crystals and single large graphs.

    Args:
        cfg: :class:`HarmonyEncoderConfig`.
        dims: :class:`InputDims` of the graph records.
        num_edges: Edge count of the fixed graph; only for ``cfg.edge_gate == "free"`` (transductive).

    Attributes:
        out_dim: Width of the node embeddings (``cfg.hidden_dim``).
        in_dim: Width of the node input ``h0`` (``hidden_dim`` in ``"embed"`` mode, ``F`` in ``"raw"``).
        mask_token: Learnable ``[in_dim]`` vector that replaces ``h0`` of masked nodes.
        edge_mask_token: Learnable ``[edge_dim]`` vector that replaces the embedding of masked edges
            (only with ``cfg.edge_mask_token``).

    Shapes:
        - batch.x ``[N, C_cat]`` int64, batch.x_feat ``[N, F]``, batch.edge_index ``[2, E]``,
          batch.edge_attr ``[E, C_bond]`` int64, batch.edge_feat ``[E, F_e]``; node_mask ``[N]`` bool,
          edge_mask ``[E]`` bool
          -> ``[N, hidden_dim]`` (and tokens ``[N, S, hidden_dim]`` with ``return_tokens``).
    """

    def __init__(self, cfg: HarmonyEncoderConfig, dims: InputDims, num_edges: int | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.dims = dims
        d = cfg.hidden_dim
        if cfg.input_mode == "embed":
            self.node_embed = CategoricalFloatEmbedding(dims.atom_cat_dims, dims.atom_float_dim, d)
            self.in_dim = d
        else:
            if dims.atom_cat_dims:
                raise ValueError("input_mode='raw' uses x_feat only; the records have categorical columns")
            if dims.atom_float_dim < 1:
                raise ValueError("input_mode='raw' needs x_feat columns")
            self.node_embed = None
            self.in_dim = dims.atom_float_dim
        self.out_dim = d
        mask = torch.zeros(self.in_dim) if cfg.mask_token_init == "zeros" else torch.randn(self.in_dim)
        self.mask_token = nn.Parameter(mask)

        use_edge_emb = dims.has_edge_features and (cfg.edge_gate == "features" or cfg.edge_messages)
        self.edge_embed = (
            CategoricalFloatEmbedding(dims.bond_cat_dims, dims.edge_float_dim, cfg.edge_dim) if use_edge_emb else None
        )
        edge_dim = cfg.edge_dim if use_edge_emb else 0
        if cfg.edge_mask_token and not use_edge_emb:
            raise ValueError("edge_mask_token needs an edge embedding: records with edge features and "
                             "edge_gate='features' or edge_messages=True")
        self.edge_mask_token = nn.Parameter(torch.zeros(cfg.edge_dim)) if cfg.edge_mask_token else None
        self.stacks = nn.ModuleList(
            WGCNStack(
                hops=k, in_dim=self.in_dim, hidden=cfg.wgcn_hidden, out_dim=d, edge_dim=edge_dim,
                edge_messages=cfg.edge_messages, norm=cfg.branch_norm, dropout=cfg.dropout,
                gate_mode=cfg.edge_gate, gate_hidden=cfg.gate_hidden, gate_init=cfg.gate_init,
                gate_endpoints=cfg.gate_endpoints, adj_norm=cfg.adj_norm, num_edges=num_edges,
            )
            for k in cfg.effective_hops
        )
        self.split_sizes = [d, cfg.mlp_hidden] + [s.first_out for s in self.stacks]
        self.fused_in = nn.Linear(self.in_dim, sum(self.split_sizes), bias=False)
        self.lin_bias = nn.Parameter(torch.zeros(d))
        self.mlp_bias = nn.Parameter(torch.zeros(cfg.mlp_hidden))
        self.mlp_hidden = nn.ModuleList(nn.Linear(cfg.mlp_hidden, cfg.mlp_hidden) for _ in range(cfg.mlp_layers))
        self.mlp_norms = nn.ModuleList(BRANCH_NORMS[cfg.branch_norm](cfg.mlp_hidden) for _ in range(cfg.mlp_layers))
        self.mlp_out = nn.Linear(cfg.mlp_hidden, d)
        self.dropout = nn.Dropout(cfg.dropout)
        self.block = TokenAttentionBlock(d, cfg.heads, cfg.ffn_ratio, cfg.attn_dropout, cfg.norm_style, cfg.qk_dim)
        self.fusion = TokenFusion(cfg.readout, d, cfg.num_tokens, cfg.hier_act)
        self._init_fused()

    def _init_fused(self) -> None:
        """Initialise each slice of the fused input Linear like a separate ``nn.Linear`` would be."""
        with torch.no_grad():
            for w in self.fused_in.weight.split(self.split_sizes, dim=0):
                nn.init.kaiming_uniform_(w, a=5**0.5)
            bound = 1.0 / self.in_dim**0.5
            nn.init.uniform_(self.lin_bias, -bound, bound)
            nn.init.uniform_(self.mlp_bias, -bound, bound)

    def embed_nodes(self, batch: Any) -> Tensor:
        """Node input ``h0`` ``[N, in_dim]`` (before masking)."""
        x_feat = getattr(batch, "x_feat", None)
        if self.node_embed is None:
            if x_feat is None:
                raise ValueError("input_mode='raw' needs batch.x_feat")
            return x_feat
        return self.node_embed(getattr(batch, "x", None), x_feat)

    def apply_mask(self, h0: Tensor, node_mask: Tensor | None) -> Tensor:
        """``h0`` ``[N, in_dim]`` with the rows of ``node_mask`` ``[N]`` set to :attr:`mask_token` (a new tensor)."""
        if node_mask is None:
            return h0
        if node_mask.dtype != torch.bool or node_mask.shape != (h0.size(0),):
            raise ValueError(f"node_mask must be a bool tensor of shape [{h0.size(0)}], got "
                             f"{node_mask.dtype} {tuple(node_mask.shape)}")
        return torch.where(node_mask.unsqueeze(-1), self.mask_token.to(h0.dtype), h0)

    def embed_edges(self, batch: Any, edge_mask: Tensor | None = None) -> Tensor | None:
        """Edge embedding ``[E, edge_dim]`` (or None), with the rows of ``edge_mask`` set to :attr:`edge_mask_token`."""
        if self.edge_embed is None:
            return None
        e = self.edge_embed(getattr(batch, "edge_attr", None), getattr(batch, "edge_feat", None))
        if edge_mask is None:
            return e
        if self.edge_mask_token is None:
            raise ValueError("edge_mask given but the encoder has no edge mask token (set edge_mask_token: true)")
        if edge_mask.dtype != torch.bool or edge_mask.shape != (e.size(0),):
            raise ValueError(f"edge_mask must be a bool tensor of shape [{e.size(0)}], got "
                             f"{edge_mask.dtype} {tuple(edge_mask.shape)}")
        return torch.where(edge_mask.unsqueeze(-1), self.edge_mask_token.to(e.dtype), e)

    def tokens(self, h0: Tensor, batch: Any, edge_mask: Tensor | None = None) -> Tensor:
        """Pre-attention tokens ``[linear, wgcn_1..wgcn_K, mlp]`` ``[N, S, hidden_dim]`` from a (masked) ``h0``."""
        edge_index = batch.edge_index
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f"edge_index must be [2, E], got {tuple(edge_index.shape)}")
        edge_emb = self.embed_edges(batch, edge_mask)
        parts = self.fused_in(h0).split(self.split_sizes, dim=-1)
        t_lin = parts[0] + self.lin_bias
        z = self.dropout(torch.relu(parts[1] + self.mlp_bias))
        for lin, norm in zip(self.mlp_hidden, self.mlp_norms):
            z = self.dropout(torch.relu(norm(lin(z))))
        t_mlp = self.mlp_out(z)
        t_wgcn = [stack(xw0, h0, edge_emb, edge_index) for stack, xw0 in zip(self.stacks, parts[2:])]
        return torch.stack([t_lin, *t_wgcn, t_mlp], dim=1)

    def encode(self, h0: Tensor, batch: Any, return_tokens: bool = False,
               edge_mask: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        """Tokens -> attention block -> read-out from a node input ``h0`` (e.g. masked); shapes: :meth:`forward`."""
        tokens = self.tokens(h0, batch, edge_mask)
        if self.cfg.readout == "cls" and not return_tokens:
            return self.block(tokens, first_only=True)  # exact cls fast path: only token 0's output
        y = self.block(tokens)
        z = self.fusion(y)
        return (z, y) if return_tokens else z

    def forward(self, batch: Any, node_mask: Tensor | None = None, return_tokens: bool = False,
                edge_mask: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        """Encode every node of ``batch``.

        ``node_mask`` selects nodes whose input becomes the mask token (``edge_mask``: edges whose bond
        embedding becomes the edge mask token).

        Returns:
            ``[N, hidden_dim]`` node embeddings, plus the post-attention tokens ``[N, S, hidden_dim]`` if
            ``return_tokens``.
        """
        h0 = self.apply_mask(self.embed_nodes(batch), node_mask)
        return self.encode(h0, batch, return_tokens=return_tokens, edge_mask=edge_mask)
