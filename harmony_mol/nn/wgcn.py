"""Weighted GCN (WGCN) branch: K hops of gated, normalised propagation (H3GNNs §3, joint structural node encoding).

Messages flow ``j -> i`` along ``edge_index = [source j, target i]`` (PyG's ``source_to_target``). One stack
shares one gate vector and one normalisation across its ``K`` hops: the gate never depends on layer state.
Propagation is PyG ``MessagePassing`` with ``aggr="add"`` on an ``edge_weight`` (a ``SparseTensor`` adjacency
is not used: it would drop the edge embeddings the stack also propagates).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.utils import add_self_loops, scatter

from harmony_mol.nn.edge_gate import EdgeGate

#: Normalisation after a hidden WGCN / MLP layer, by ``EncoderConfig.branch_norm``, built as ``cls(dim)``.
#: PyG's ``normalization_resolver`` would give its ``BatchNorm`` (weights under ``.module``, so the state-dict
#: keys of ``data/checkpoints/*.pt`` change) and a graph-wise ``LayerNorm`` by default.
BRANCH_NORMS: dict[str, type[nn.Module]] = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm, "none": nn.Identity}


def gated_norm(gate: Tensor, edge_index: Tensor, num_nodes: int, mode: str,
               self_gate: Tensor | None) -> tuple[Tensor, Tensor]:
    """Propagation edges and their coefficients, as PyG's ``gcn_norm`` returns them.

    ``"sym"``: ``c_ji = a_ji / sqrt(deg_j deg_i)`` on the edges, then one self-loop per node with
    ``c_ii = s / deg_i``, where ``deg_i = sum_j a_ji + s`` (in-degree at the target); the loops come last,
    so ``coef[:E]`` belongs to ``edge_index``. ``"none"``: ``c_ji = a_ji``, no self-loops.

    ``gcn_norm(add_self_loops=False)`` on the looped edges gives the same forward values, but its
    ``pow_(-0.5)`` and advanced-indexing backward round the gate gradients differently (up to ~1e-6), which
    would change trained numbers; ``add_remaining_self_loops`` (its ``add_self_loops=True``) would also
    replace a crystal's periodic self-image edges by the learned loop.

    Shapes:
        - gate ``[E]``, edge_index ``[2, E]``, self_gate ``[]`` -> (edge_index ``[2, E']``, coef ``[E']``)
          with ``E' = E + N`` (``"sym"``) or ``E`` (``"none"``).
    """
    if mode == "none":
        return edge_index, gate
    if mode != "sym" or self_gate is None:
        raise ValueError(f"unknown adj_norm {mode!r} (or missing self-loop gate)")
    dis = (scatter(gate, edge_index[1], 0, dim_size=num_nodes, reduce="sum") + self_gate).rsqrt()
    coef = dis.index_select(0, edge_index[0]) * gate * dis.index_select(0, edge_index[1])
    loops, _ = add_self_loops(edge_index, num_nodes=num_nodes)
    return loops, torch.cat([coef, self_gate * dis * dis])


class WGCNStack(MessagePassing):
    """A K-hop Weighted-GCN branch producing one token per node.

    Layer ``l``: ``y = P(x W_l) + P_e(e) U_l + b_l`` where ``P`` is the gated propagation
    ``P(x)_i = sum_j c_ji x_j`` (self-loop included) and ``P_e(e)_i = sum_{j != i} c_ji e_ji`` the same
    propagation applied to edge embeddings (computed once per stack; this equals the GINE-style message
    ``a_ij (W h_j + U e_ij)`` by linearity). Hidden layers are followed by norm -> ReLU -> dropout, the last
    one by nothing. The first layer's ``x W_1`` is computed outside (fused with the other consumers of the
    node input in ``harmony_mol/nn/encoder.py``) and passed in.

    Receptive field: a ``K``-hop token depends on node inputs at most ``K`` hops away, except that with
    ``adj_norm="sym"`` and ``gate_endpoints`` the degree of a node ``K`` hops away includes gates that
    read its ``(K+1)``-hop neighbours' inputs (normalisation only; no message travels ``K+1`` hops).

    Args:
        hops: Propagation hops (= layers).
        in_dim: Node input width (only for the gate's endpoint projection).
        hidden / out_dim: Hidden / token width.
        edge_dim: Edge embedding width (0 = none).
        edge_messages: Add the ``U e`` term.
        norm: A key of :data:`BRANCH_NORMS`.
        dropout: Dropout after hidden layers.
        gate_mode / gate_hidden / gate_init / gate_endpoints: ``mode``, ``hidden``, ``init`` (also of the
            self-loop gate) and ``endpoints`` of the :class:`~harmony_mol.nn.edge_gate.EdgeGate`.
        adj_norm: ``"sym"`` or ``"none"`` (see :func:`gated_norm`).
        num_edges: Edge count of the fixed graph (``gate_mode="free"`` only).

    Shapes:
        - xw0 ``[N, first_out]``, h0 ``[N, in_dim]``, edge_emb ``[E, edge_dim]`` or None,
          edge_index ``[2, E]`` -> ``[N, out_dim]``.
    """

    def __init__(self, hops: int, in_dim: int, hidden: int, out_dim: int, edge_dim: int, edge_messages: bool,
                 norm: str, dropout: float, gate_mode: str, gate_hidden: int, gate_init: float, gate_endpoints: bool,
                 adj_norm: str, num_edges: int | None = None) -> None:
        super().__init__(aggr="add")
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
        with_e = edge_messages and edge_dim > 0
        self.edge_lins = nn.ModuleList(nn.Linear(edge_dim, d, bias=False) for d in dims) if with_e else None
        self.norms = nn.ModuleList(BRANCH_NORMS[norm](d) for d in dims[:-1])
        self.dropout = nn.Dropout(dropout)

    def forward(self, xw0: Tensor, h0: Tensor, edge_emb: Tensor | None, edge_index: Tensor) -> Tensor:
        """Run the K hops (see the class docstring for the shapes)."""
        n = xw0.size(0)
        gate = self.gate(edge_emb, h0, edge_index)
        self_gate = torch.sigmoid(self.self_logit) if self.self_logit is not None else None
        prop_index, coef = gated_norm(gate, edge_index, n, self.adj_norm, self_gate)
        agg_e = None
        if self.edge_lins is not None and edge_emb is not None:
            msg = edge_emb * coef[: edge_index.size(1)].unsqueeze(-1)
            agg_e = scatter(msg, edge_index[1], 0, dim_size=n, reduce="sum")
        y = xw0
        for layer in range(self.hops):
            if layer > 0:
                y = self.lins[layer - 1](y)
            y = self.propagate(prop_index, x=y, edge_weight=coef) + self.biases[layer]
            if agg_e is not None:
                y = y + self.edge_lins[layer](agg_e)
            if layer < self.hops - 1:
                y = self.dropout(torch.relu(self.norms[layer](y)))
        return y

    def message(self, x_j: Tensor, edge_weight: Tensor) -> Tensor:
        """``c_ji x_j`` ``[E', C]``, promoted to the coefficients' dtype (fp32 under autocast)."""
        return x_j * edge_weight.unsqueeze(-1)
