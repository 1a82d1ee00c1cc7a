"""Weighted GCN (WGCN) branches with learnable (0, 1) edge gates, on the ``edge_index`` path only.

Messages flow ``j -> i`` along ``edge_index = [source j, target i]``. One stack = ``K`` propagation hops
sharing one gate vector and one normalisation (the code shares its edge weights across the layers of a
stack; ours also shares the degree normalisation because the gate never depends on layer state).
Aggregation uses ``Tensor.index_add`` (no torch-scatter / SparseTensor: a sparse adjacency would silently
drop the edge weights, method §2.4).
"""

from __future__ import annotations

import logging

import torch
from torch import Tensor, nn

logger = logging.getLogger(__name__)


def make_norm(kind: str, dim: int) -> nn.Module:
    """``"batch"`` -> BatchNorm1d, ``"layer"`` -> LayerNorm, ``"none"`` -> Identity."""
    if kind == "batch":
        return nn.BatchNorm1d(dim)
    if kind == "layer":
        return nn.LayerNorm(dim)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}")


class EdgeGate(nn.Module):
    """Edge gates ``a_e in (0, 1)`` for one WGCN stack.

    Modes: ``"features"``: ``sigmoid(g([e_ij ‖ h_i ‖ h_j]))`` with ``g`` = Linear -> ReLU -> Linear(., 1)
    (the concatenation is computed as a sum of per-part projections, the endpoint ones node-wise);
    ``"free"``: ``sigmoid(w_e)`` with one learnable logit per edge (transductive); ``"none"``: ones.

    Args:
        mode: ``"features"``, ``"free"`` or ``"none"``.
        edge_dim: Width of the edge embedding (0 = no edge features).
        node_dim: Width of the endpoint states (used if ``endpoints``).
        hidden: Hidden width of ``g``.
        init: Initial logit (output bias of ``g`` / value of the free logits).
        endpoints: Include endpoint states.
        num_edges: Edge count of the fixed graph (``"free"`` mode only).

    Shapes:
        - edge_emb ``[E, edge_dim]`` or None, h ``[N, node_dim]``, edge_index ``[2, E]`` -> ``[E]``.
    """

    def __init__(
        self,
        mode: str,
        edge_dim: int,
        node_dim: int,
        hidden: int,
        init: float,
        endpoints: bool,
        num_edges: int | None = None,
    ) -> None:
        super().__init__()
        self.mode = mode
        self.use_edges = edge_dim > 0
        self.endpoints = endpoints
        if mode == "free":
            if num_edges is None or num_edges < 0:
                raise ValueError("edge_gate='free' needs num_edges (the edge count of the fixed graph)")
            self.logits = nn.Parameter(torch.full((num_edges,), float(init)))
        elif mode == "features":
            self.edge_in = nn.Linear(edge_dim, hidden) if self.use_edges else None
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
        """Gate value of every edge."""
        num_e = edge_index.size(1)
        if self.mode == "none":
            return h.new_ones(num_e)
        if self.mode == "free":
            if num_e != self.logits.numel():
                raise ValueError(
                    f"edge_gate='free' was built for {self.logits.numel()} edges but the batch has {num_e}"
                )
            return torch.sigmoid(self.logits)
        if hasattr(self, "const"):
            return torch.sigmoid(self.const).expand(num_e)
        z: Tensor | None = None
        if self.edge_in is not None:
            if edge_emb is None:
                raise ValueError("edge gate expects edge features")
            z = self.edge_in(edge_emb)
        if self.node_in is not None:
            src, dst = self.node_in(h).chunk(2, dim=-1)
            ends = src.index_select(0, edge_index[0]) + dst.index_select(0, edge_index[1])
            z = ends if z is None else z + ends
        if z is None:  # unreachable: handled by the ``const`` branch
            raise RuntimeError("gate has no inputs")
        if self.hidden_bias is not None:
            z = z + self.hidden_bias
        return torch.sigmoid(self.out(torch.relu(z))).squeeze(-1)


def gated_norm(
    gate: Tensor, edge_index: Tensor, num_nodes: int, mode: str, self_gate: Tensor | None
) -> tuple[Tensor, Tensor | None]:
    """Per-edge propagation coefficients and the self-loop coefficient.

    ``"sym"``: ``c_ji = a_ji / sqrt(deg_j deg_i)``, ``c_ii = s / deg_i`` with ``deg_i = s + sum_j a_ji``
    (in-degree at the target, as PyG's ``gcn_norm``); ``"none"``: ``c_ji = a_ji``, no self-loop.

    Shapes:
        - gate ``[E]``, edge_index ``[2, E]`` -> (``[E]``, ``[N]`` or None).
    """
    if mode == "none":
        return gate, None
    if mode != "sym" or self_gate is None:
        raise ValueError(f"unknown adj_norm {mode!r} (or missing self-loop gate)")
    deg = gate.new_zeros(num_nodes).index_add(0, edge_index[1], gate) + self_gate
    dis = deg.rsqrt()
    coef = dis.index_select(0, edge_index[0]) * gate * dis.index_select(0, edge_index[1])
    return coef, self_gate * dis * dis


def propagate(h: Tensor, edge_index: Tensor, coef: Tensor, self_coef: Tensor | None) -> Tensor:
    """``out_i = self_coef_i h_i + sum_{j->i} coef_ji h_j``.

    Shapes:
        - h ``[N, C]``, edge_index ``[2, E]``, coef ``[E]``, self_coef ``[N]`` -> ``[N, C]``.
    """
    msg = h.index_select(0, edge_index[0]) * coef.unsqueeze(-1)  # promoted to coef's dtype (fp32 under autocast)
    out = msg.new_zeros(h.size(0), h.size(1)).index_add_(0, edge_index[1], msg)
    if self_coef is not None:
        out = out + h * self_coef.unsqueeze(-1)
    return out


class WGCNStack(nn.Module):
    """A K-hop Weighted-GCN branch producing one token per node.

    Layer ``l``: ``y = P(x W_l) + P_e(e) U_l + b_l`` where ``P`` is the gated propagation and ``P_e(e)`` the
    same propagation applied to edge embeddings (``sum_j c_ji e_ji``, computed once per stack; this equals
    the GINE-style message ``a_ij (W h_j + U e_ij)`` by linearity). Hidden layers are followed by
    norm -> ReLU -> dropout, the last one by nothing (as in the code). The first layer's ``x W_1`` is
    computed outside (fused with the other consumers of the node input) and passed in.

    Receptive field: a ``K``-hop token depends on node inputs at most ``K`` hops away, except that with
    ``adj_norm="sym"`` and ``gate_endpoints`` the degree of a node ``K`` hops away includes gates that
    read its ``(K+1)``-hop neighbours' inputs (normalisation only; no message travels ``K+1`` hops).

    Args:
        hops: Propagation hops (= layers).
        in_dim: Node input width (only for the gate's endpoint projection).
        hidden: Hidden width; out_dim: token width.
        edge_dim: Edge embedding width (0 = none); edge_messages: add the ``U e`` term.
        norm: ``"batch"``/``"layer"``/``"none"``; dropout: dropout after hidden layers.
        gate_mode, gate_hidden, gate_init, gate_endpoints, num_edges: see :class:`EdgeGate`.
        adj_norm: ``"sym"`` or ``"none"``.

    Shapes:
        - xw0 ``[N, first_out]``, h0 ``[N, in_dim]``, edge_emb ``[E, edge_dim]`` or None -> ``[N, out_dim]``.
    """

    def __init__(
        self,
        hops: int,
        in_dim: int,
        hidden: int,
        out_dim: int,
        edge_dim: int,
        edge_messages: bool,
        norm: str,
        dropout: float,
        gate_mode: str,
        gate_hidden: int,
        gate_init: float,
        gate_endpoints: bool,
        adj_norm: str,
        num_edges: int | None = None,
    ) -> None:
        super().__init__()
        if hops < 1:
            raise ValueError(f"hops must be >= 1, got {hops}")
        self.hops = hops
        self.adj_norm = adj_norm
        dims = [hidden] * (hops - 1) + [out_dim]
        self.first_out = dims[0]
        self.gate = EdgeGate(gate_mode, edge_dim, in_dim, gate_hidden, gate_init, gate_endpoints, num_edges)
        self.self_logit = nn.Parameter(torch.tensor(float(gate_init))) if adj_norm == "sym" else None
        self.lins = nn.ModuleList(nn.Linear(dims[i - 1], dims[i], bias=False) for i in range(1, hops))
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(d)) for d in dims)
        self.edge_lins = (
            nn.ModuleList(nn.Linear(edge_dim, d, bias=False) for d in dims)
            if edge_messages and edge_dim > 0
            else None
        )
        self.norms = nn.ModuleList(make_norm(norm, d) for d in dims[:-1])
        self.dropout = nn.Dropout(dropout)

    def forward(self, xw0: Tensor, h0: Tensor, edge_emb: Tensor | None, edge_index: Tensor) -> Tensor:
        """Run the K hops; see the class docstring."""
        n = xw0.size(0)
        gate = self.gate(edge_emb, h0, edge_index)
        self_gate = torch.sigmoid(self.self_logit) if self.self_logit is not None else None
        coef, self_coef = gated_norm(gate, edge_index, n, self.adj_norm, self_gate)
        agg_e = None
        if self.edge_lins is not None and edge_emb is not None:
            msg = edge_emb * coef.unsqueeze(-1)
            agg_e = edge_emb.new_zeros(n, edge_emb.size(1)).index_add(0, edge_index[1], msg)
        y = xw0
        for layer in range(self.hops):
            if layer > 0:
                y = self.lins[layer - 1](y)
            y = propagate(y, edge_index, coef, self_coef) + self.biases[layer]
            if agg_e is not None:
                y = y + self.edge_lins[layer](agg_e)
            if layer < self.hops - 1:
                y = self.dropout(torch.relu(self.norms[layer](y)))
        return y
