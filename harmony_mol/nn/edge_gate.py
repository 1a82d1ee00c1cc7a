"""Learnable ``(0, 1)`` edge weights of a WGCN branch (H3GNNs §3, joint structural node encoding)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class EdgeGate(nn.Module):
    """Edge gates ``a_e in (0, 1)`` for one WGCN stack.

    Modes: ``"features"``: ``sigmoid(g([e_ij ‖ h_i ‖ h_j]))`` with ``g`` = Linear -> ReLU -> Linear(., 1)
    (the concatenation is computed as a sum of per-part projections, the endpoint ones node-wise);
    ``"free"``: ``sigmoid(w_e)`` with one learnable logit per edge (transductive); ``"none"``: ones.

    Args:
        mode: ``"features"``, ``"free"`` or ``"none"``.
        edge_dim / node_dim / hidden: Widths of the edge embedding (0 = none), the endpoint states and ``g``.
        init: Initial logit (output bias of ``g`` / value of the free logits).
        endpoints: Include endpoint states.
        num_edges: Edge count of the fixed graph (``"free"`` mode only).

    Shapes:
        - edge_emb ``[E, edge_dim]`` or None, h ``[N, node_dim]``, edge_index ``[2, E]`` -> ``[E]``.
    """

    def __init__(self, mode: str, edge_dim: int, node_dim: int, hidden: int, init: float, endpoints: bool,
                 num_edges: int | None = None) -> None:
        super().__init__()
        self.mode = mode
        if mode == "free":
            if num_edges is None or num_edges < 0:
                raise ValueError("edge_gate='free' needs num_edges (the edge count of the fixed graph)")
            self.logits = nn.Parameter(torch.full((num_edges,), float(init)))
        elif mode == "features":
            self.edge_in = nn.Linear(edge_dim, hidden) if edge_dim > 0 else None
            self.node_in = nn.Linear(node_dim, 2 * hidden, bias=False) if endpoints else None
            if self.edge_in is None and self.node_in is None:
                # nothing to condition on: a single learnable logit
                self.const = nn.Parameter(torch.tensor(float(init)))
            else:
                self.hidden_bias = nn.Parameter(torch.zeros(hidden)) if self.edge_in is None else None
                self.out = nn.Linear(hidden, 1)
                nn.init.constant_(self.out.bias, float(init))
                nn.init.normal_(self.out.weight, std=0.01)
        elif mode != "none":
            raise ValueError(f"unknown edge_gate mode {mode!r}")

    def forward(self, edge_emb: Tensor | None, h: Tensor, edge_index: Tensor) -> Tensor:
        """Gate value of every edge (see the class docstring for the shapes)."""
        num_e = edge_index.size(1)
        if self.mode == "none":
            return h.new_ones(num_e)
        if self.mode == "free":
            if num_e != self.logits.numel():
                built = self.logits.numel()
                raise ValueError(f"edge_gate='free' was built for {built} edges but the batch has {num_e}")
            return torch.sigmoid(self.logits)
        if hasattr(self, "const"):
            return torch.sigmoid(self.const).expand(num_e)
        if self.edge_in is not None and edge_emb is None:
            raise ValueError("edge gate expects edge features")
        # the edge projection, or (endpoints only) the hidden bias it would carry, plus the endpoint part
        z = self.edge_in(edge_emb) if self.edge_in is not None else self.hidden_bias
        if self.node_in is not None:
            src, dst = self.node_in(h).chunk(2, dim=-1)
            z = z + (src.index_select(0, edge_index[0]) + dst.index_select(0, edge_index[1]))
        return torch.sigmoid(self.out(torch.relu(z))).squeeze(-1)
