"""Behavioural properties of the encoder.

Gate gradients, masking, no cross-graph leakage, batch/single equality, permutation equivariance and exact
hop counts.
"""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch, Data

from harmony_mol.nn.encoder import HarmonyEncoder
from harmony_mol.nn.encoder_config import HarmonyEncoderConfig

from .nn_graphs import CRYSTAL_DIMS, MOL_DIMS, NODE_DIMS, make_graph

SMALL = dict(hidden_dim=32, wgcn_hidden=24, mlp_hidden=16, heads=4, qk_dim=8, edge_dim=8, gate_hidden=4)


def small(**kw: object) -> HarmonyEncoderConfig:
    return HarmonyEncoderConfig(**{**SMALL, **kw})


def grads_of(enc: HarmonyEncoder, batch: Data, pattern: str) -> dict[str, torch.Tensor | None]:
    enc.zero_grad()
    enc(batch).square().sum().backward()
    return {n: p.grad for n, p in enc.named_parameters() if pattern in n}


@pytest.mark.parametrize("adj_norm", ["sym", "none"])
def test_gradient_reaches_feature_gates(mol_batch: Batch, adj_norm: str) -> None:
    enc = HarmonyEncoder(small(edge_gate="features", adj_norm=adj_norm), MOL_DIMS)
    grads = grads_of(enc, mol_batch, ".gate.")
    assert {n.split(".gate.")[1] for n in grads} == {"edge_in.weight", "edge_in.bias", "node_in.weight",
                                                     "out.weight", "out.bias"}
    for name, g in grads.items():
        assert g is not None and g.abs().sum() > 0, name


def test_gradient_reaches_free_gates_and_self_loop_gate() -> None:
    data = make_graph(8, NODE_DIMS, seed=0)
    enc = HarmonyEncoder(HarmonyEncoderConfig.paper_faithful(**SMALL), NODE_DIMS, num_edges=data.num_edges)
    grads = grads_of(enc, data, "logit")
    assert len(grads) == 4  # free logits + self-loop logit of each of the 2 stacks
    for name, g in grads.items():
        assert g is not None and g.abs().sum() > 0, name
    free = [g for n, g in grads.items() if n.endswith("gate.logits")]
    assert all(g.shape == (data.num_edges,) and (g != 0).all() for g in free)  # every edge gets a gradient


def test_feature_gates_start_near_one(mol_batch: Batch) -> None:
    enc = HarmonyEncoder(small(), MOL_DIMS)
    h0 = enc.embed_nodes(mol_batch)
    gate = enc.stacks[0].gate(enc.embed_edges(mol_batch), h0, mol_batch.edge_index)
    assert gate.shape == (mol_batch.num_edges,)
    assert ((gate > 0.9) & (gate < 1.0)).all()


def test_masked_nodes_see_only_the_mask_token(mol_batch: Batch) -> None:
    torch.manual_seed(0)
    enc = HarmonyEncoder(small(mask_token_init="normal"), MOL_DIMS).eval()
    mask = torch.zeros(mol_batch.num_nodes, dtype=torch.bool)
    mask[[1, 6, 13]] = True
    x_before = mol_batch.x.clone()
    out = enc(mol_batch, node_mask=mask)
    assert torch.equal(mol_batch.x, x_before)  # input batch not mutated
    assert not torch.allclose(out, enc(mol_batch))  # masking changes the output
    changed = mol_batch.clone()
    changed.x[mask] = (changed.x[mask] + 1) % torch.tensor([120, 4, 7])  # masked atoms' own features
    torch.testing.assert_close(enc(changed, node_mask=mask), out)  # ... are invisible
    h0 = enc.apply_mask(enc.embed_nodes(mol_batch), mask)
    assert torch.equal(h0[mask], enc.mask_token.expand(3, -1))
    enc.train()
    enc(mol_batch, node_mask=mask).sum().backward()
    assert enc.mask_token.grad is not None and enc.mask_token.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="node_mask"):
        enc(mol_batch, node_mask=mask[:-1])


def test_edge_mask_token_hides_bond_features(mol_batch: Batch) -> None:
    torch.manual_seed(0)
    plain = HarmonyEncoder(small(), MOL_DIMS).eval()
    enc = HarmonyEncoder(small(edge_mask_token=True), MOL_DIMS).eval()
    enc.load_state_dict({**plain.state_dict(), "edge_mask_token": enc.edge_mask_token.detach()})
    torch.testing.assert_close(enc(mol_batch), plain(mol_batch))  # no edge mask: same as without the token
    emask = mol_batch.batch[mol_batch.edge_index[0]] == 0  # every bond of graph 0
    out = enc(mol_batch, edge_mask=emask)
    g0 = mol_batch.batch == 0
    assert not torch.allclose(out[g0], enc(mol_batch)[g0])
    torch.testing.assert_close(out[~g0], enc(mol_batch)[~g0])  # other graphs untouched
    changed = mol_batch.clone()
    changed.edge_attr[emask] = (changed.edge_attr[emask] + 1) % torch.tensor([5, 3])
    torch.testing.assert_close(enc(changed, edge_mask=emask), out)  # masked bonds' features are invisible
    enc.train()
    enc(mol_batch, node_mask=torch.zeros_like(g0), edge_mask=emask).sum().backward()
    assert enc.edge_mask_token.grad is not None and enc.edge_mask_token.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="edge_mask"):
        plain(mol_batch, edge_mask=emask)
    with pytest.raises(ValueError, match="edge_mask"):
        enc(mol_batch, edge_mask=emask[:-1])
    with pytest.raises(ValueError, match="edge embedding"):
        HarmonyEncoder(small(edge_mask_token=True, edge_gate="none", edge_messages=False), MOL_DIMS)


@pytest.mark.parametrize("readout", ["cls", "hier"])
@pytest.mark.parametrize("branch_norm", ["layer", "none"])
def test_no_cross_graph_leakage_and_batch_equals_single(readout: str, branch_norm: str) -> None:
    torch.manual_seed(0)
    enc = HarmonyEncoder(small(readout=readout, branch_norm=branch_norm, hops=(1, 3)), CRYSTAL_DIMS).eval()
    graphs = [make_graph(n, CRYSTAL_DIMS, seed=n) for n in (4, 6, 5)]
    batch = Batch.from_data_list(graphs)
    out = enc(batch)
    changed = graphs[1].clone()
    changed.x_feat = changed.x_feat + 5.0
    changed.edge_feat = changed.edge_feat.flip(0)
    out2 = enc(Batch.from_data_list([graphs[0], changed, graphs[2]]))
    torch.testing.assert_close(out2[:4], out[:4])  # graph 1 untouched
    torch.testing.assert_close(out2[10:], out[10:])  # graph 3 untouched
    assert not torch.allclose(out2[4:10], out[4:10])  # graph 2 did change
    for g, lo, hi in ((graphs[0], 0, 4), (graphs[1], 4, 10), (graphs[2], 10, 15)):
        torch.testing.assert_close(enc(g), out[lo:hi], rtol=1e-4, atol=1e-5)


def test_permutation_equivariance() -> None:
    torch.manual_seed(0)
    enc = HarmonyEncoder(small(readout="hier"), MOL_DIMS).eval()
    ei = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0, 1, 4], [1, 0, 2, 1, 3, 2, 0, 3, 4, 1]])
    g = make_graph(5, MOL_DIMS, seed=7, edge_index=ei)
    perm = torch.tensor([3, 0, 4, 1, 2])  # new node i is old node perm[i]
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(5)
    eperm = torch.randperm(ei.size(1))
    pg = Data(x=g.x[perm], x_feat=g.x_feat[perm], edge_index=inv[ei][:, eperm], edge_attr=g.edge_attr[eperm],
              edge_feat=g.edge_feat[eperm])
    torch.testing.assert_close(enc(pg), enc(g)[perm], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("variant", ["sym_edge_gate", "none_endpoint_gate", "code"])
def test_exact_hop_count(k: int, variant: str) -> None:
    """Token ``wgcn_k`` of node 0 on a path depends on nodes <= k hops away and not on node k+1.

    (With ``adj_norm='sym'`` AND endpoint-dependent gates, the degree of a node k hops away includes the
    gate of its edge to node k+1, so that combination is excluded by construction.)
    """
    torch.manual_seed(0)
    kw = {
        "sym_edge_gate": dict(adj_norm="sym", gate_endpoints=False),
        "none_endpoint_gate": dict(adj_norm="none", gate_endpoints=True),
        "code": dict(adj_norm="none", edge_gate="none", code_hop_quirk=True),
    }[variant]
    enc = HarmonyEncoder(small(hops=(k,), **kw), MOL_DIMS).eval()
    hops = enc.cfg.effective_hops[0]
    g = make_graph(8, MOL_DIMS, seed=1)

    def token0(data: Data) -> torch.Tensor:
        return enc.tokens(enc.embed_nodes(data), data)[0, 1]  # node 0, token wgcn_1

    base = token0(g)
    for node, should_change in ((hops, True), (hops + 1, False)):
        changed = g.clone()
        changed.x[node] = (changed.x[node] + 1) % torch.tensor([120, 4, 7])
        assert (not torch.allclose(token0(changed), base)) == should_change, (node, hops)
