"""WGCN branch against a dense reference: gates, gated normalisation and K-hop propagation (harmony_mol/nn/wgcn.py)."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import Tensor, nn
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_self_loops

from harmony_mol.nn.edge_gate import EdgeGate
from harmony_mol.nn.wgcn import WGCNStack, gated_norm

IN_DIM, HIDDEN, OUT_DIM, EDGE_DIM, GATE_HIDDEN = 6, 5, 4, 3, 7


def random_graph(n: int, e: int, seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """Random ``edge_index`` (self-loops, multi-edges and an isolated node), node inputs and edge embeddings."""
    g = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, n - 1, (2, e), generator=g)  # the last node stays isolated
    return edge_index, torch.randn(n, IN_DIM, generator=g), torch.randn(e, EDGE_DIM, generator=g)


def dense_gate(gate: EdgeGate, edge_emb: Tensor, h: Tensor, edge_index: Tensor) -> Tensor:
    """``sigmoid(g([e_ij ‖ h_i ‖ h_j]))`` with the per-part weights concatenated into one matrix."""
    src, dst = edge_index
    parts, weights = [], []
    if gate.edge_in is not None:
        parts.append(edge_emb)
        weights.append(gate.edge_in.weight)
    if gate.node_in is not None:
        w_src, w_dst = gate.node_in.weight.chunk(2, dim=0)
        parts += [h[src], h[dst]]
        weights += [w_src, w_dst]
    bias = gate.edge_in.bias if gate.edge_in is not None else gate.hidden_bias
    z = torch.relu(torch.cat(parts, -1) @ torch.cat(weights, -1).T + bias)
    return torch.sigmoid(gate.out(z)).squeeze(-1)


def dense_stack(stack: WGCNStack, xw0: Tensor, h0: Tensor, edge_emb: Tensor, edge_index: Tensor) -> Tensor:
    """The stack as dense matrices: ``M = D^-1/2 (A + s I) D^-1/2`` (``"sym"``) or ``A``, edge term ``B e``."""
    n, e = xw0.size(0), edge_index.size(1)
    src, dst = edge_index
    a = stack.gate(edge_emb, h0, edge_index).double()
    adj = torch.zeros(n, n, dtype=torch.float64).index_put_((dst, src), a, accumulate=True)
    inc = torch.zeros(n, e, dtype=torch.float64)
    inc[dst, torch.arange(e)] = a
    if stack.adj_norm == "sym":
        s = torch.sigmoid(stack.self_logit).double()
        dis = (adj.sum(1) + s).rsqrt()
        adj = dis[:, None] * (adj + s * torch.eye(n, dtype=torch.float64)) * dis[None, :]
        inc = dis[:, None] * inc * dis[src]
    agg_e = inc @ edge_emb.double()
    y = xw0.double()
    for layer in range(stack.hops):
        if layer > 0:
            y = y @ stack.lins[layer - 1].weight.double().T
        y = adj @ y + stack.biases[layer].double()
        if stack.edge_lins is not None:
            y = y + agg_e @ stack.edge_lins[layer].weight.double().T
        if layer < stack.hops - 1:
            y = torch.relu(dense_norm(stack.norms[layer], y))
    return y


def dense_norm(norm: nn.Module, y: Tensor) -> Tensor:
    """LayerNorm, eval-mode BatchNorm (running statistics) or identity, in float64."""
    if isinstance(norm, nn.LayerNorm):
        y = (y - y.mean(-1, keepdim=True)) / (y.var(-1, unbiased=False, keepdim=True) + norm.eps).sqrt()
    elif isinstance(norm, nn.BatchNorm1d):
        y = (y - norm.running_mean.double()) / (norm.running_var.double() + norm.eps).sqrt()
    else:
        return y
    return y * norm.weight.double() + norm.bias.double()


@pytest.mark.parametrize("gate_mode,endpoints", [("features", True), ("features", False), ("free", False),
                                                 ("none", False)])
@pytest.mark.parametrize("adj_norm", ["sym", "none"])
def test_stack_matches_dense_reference(gate_mode: str, endpoints: bool, adj_norm: str) -> None:
    for (n, e), hops, edge_messages, norm in itertools.product([(7, 0), (9, 20), (30, 200)], [1, 3], [True, False],
                                                               ["layer", "batch", "none"]):
        edge_index, h0, edge_emb = random_graph(n, e, seed=n + e + hops)
        torch.manual_seed(hops)
        stack = WGCNStack(hops, IN_DIM, HIDDEN, OUT_DIM, EDGE_DIM, edge_messages, norm, dropout=0.5,
                          gate_mode=gate_mode, gate_hidden=GATE_HIDDEN, gate_init=0.3, gate_endpoints=endpoints,
                          adj_norm=adj_norm, num_edges=e).eval()
        xw0 = torch.randn(n, stack.first_out)
        with torch.no_grad():
            if gate_mode == "free":
                stack.gate.logits.normal_()
            for p in stack.norms.parameters():
                p.normal_()
            for buf in stack.norms.buffers():
                if buf.is_floating_point():  # running mean and variance, not num_batches_tracked
                    buf.uniform_(0.5, 1.5)
            out = stack(xw0, h0, edge_emb, edge_index)
            ref = dense_stack(stack, xw0, h0, edge_emb, edge_index)
        assert out.shape == (n, OUT_DIM) and out.dtype == torch.float32
        torch.testing.assert_close(out, ref.float(), msg=f"n={n} e={e} hops={hops} {edge_messages} {norm}")


@pytest.mark.parametrize("endpoints,edge_dim", [(True, EDGE_DIM), (False, EDGE_DIM), (True, 0)])
def test_feature_gate_is_a_concatenation_mlp(endpoints: bool, edge_dim: int) -> None:
    edge_index, h0, edge_emb = random_graph(12, 40, seed=1)
    gate = EdgeGate("features", edge_dim, IN_DIM, GATE_HIDDEN, init=0.5, endpoints=endpoints)
    with torch.no_grad():
        gate.out.weight.normal_()
        a = gate(edge_emb if edge_dim else None, h0, edge_index)
        torch.testing.assert_close(a, dense_gate(gate, edge_emb, h0, edge_index))
    assert ((a > 0) & (a < 1)).all()


def test_gated_norm_equals_gcn_norm_with_learned_self_loops() -> None:
    edge_index, _, _ = random_graph(25, 120, seed=3)
    gate, self_gate = torch.rand(120), torch.tensor(0.8)
    looped, coef = gated_norm(gate, edge_index, 25, "sym", self_gate)
    ref_index, ref_weight = add_self_loops(edge_index, gate, fill_value=self_gate, num_nodes=25)
    _, ref_coef = gcn_norm(ref_index, ref_weight, 25, add_self_loops=False)
    assert torch.equal(looped, ref_index)
    torch.testing.assert_close(coef, ref_coef, rtol=0, atol=0)
