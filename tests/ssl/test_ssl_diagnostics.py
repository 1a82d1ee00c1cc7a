"""SSL diagnostics and recipe switches, on toy inputs with known answers.

Effective rank, masked/unmasked split, view shares, masked-only loss and target normalisation.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch_geometric.data import Data

from harmony_mol.nn.encoder import HarmonyEncoder
from harmony_mol.nn.encoder_config import HarmonyEncoderConfig
from harmony_mol.nn.inputs import InputDims
from harmony_mol.ssl.diagnostics import effective_rank, masked_unmasked_stats, view_contributions
from harmony_mol.ssl.objective import normalize_target, ssl_loss


def test_effective_rank_of_rank_one_and_isotropic() -> None:
    g = torch.Generator().manual_seed(0)
    u = torch.randn(200, 1, generator=g)
    v = torch.randn(1, 16, generator=g)
    assert effective_rank(u @ v) == pytest.approx(1.0, abs=1e-3)  # rank-1 matrix
    assert effective_rank(torch.ones(50, 8)) == 0.0  # all rows equal: nothing left after centring
    eye_like = torch.cat([torch.eye(16), -torch.eye(16)])  # centred, equal singular values
    assert effective_rank(eye_like) == pytest.approx(16.0, rel=1e-4)


def test_masked_unmasked_stats_split() -> None:
    t = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    s = torch.tensor([[1.0, 0.0], [0.0, -1.0], [2.0, 2.0]])
    mask = torch.tensor([False, True, False])
    out = masked_unmasked_stats(s, t, mask)
    assert out["loss_masked"] == pytest.approx(4.0) and out["cos_masked"] == pytest.approx(-1.0)
    assert out["loss_unmasked"] == pytest.approx(1.0) and out["cos_unmasked"] == pytest.approx(1.0)
    assert math.isnan(masked_unmasked_stats(s, t, torch.zeros(3, dtype=torch.bool))["loss_masked"])


def test_masked_only_loss_ignores_unmasked_nodes() -> None:
    t = torch.zeros(4, 3)
    s = torch.tensor([[1.0, 0, 0], [0, 0, 0], [5.0, 0, 0], [0, 0, 0]])
    mask = torch.tensor([True, True, False, False])
    loss_masked, node = ssl_loss(s, t, None, "l2", mask=mask, loss_nodes="masked")
    loss_all, _ = ssl_loss(s, t, None, "l2", mask=mask)
    assert float(loss_masked) == pytest.approx(0.5)  # (1 + 0) / 2: node 2's error of 25 is not counted
    assert float(loss_all) == pytest.approx(26 / 4)
    assert node.tolist() == [1.0, 0.0, 25.0, 0.0]  # difficulty still sees every node
    batch = torch.tensor([0, 0, 1, 1])  # graph 1 has no masked node: it contributes nothing
    assert float(ssl_loss(s, t, batch, "l2", mask=mask, loss_nodes="masked", num_graphs=2)[0]) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        ssl_loss(s, t, None, "l2", loss_nodes="masked")
    with pytest.raises(ValueError):
        ssl_loss(s, t, None, "l2", mask=mask, loss_nodes="some")


def test_target_norm_kinds() -> None:
    t = torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 9.0]])
    layer = normalize_target(t, "layer")
    assert torch.allclose(layer.mean(-1), torch.zeros(2), atol=1e-6)
    assert torch.allclose(layer.var(-1, unbiased=False), torch.ones(2), atol=1e-4)
    batch = normalize_target(t, "batch")
    assert torch.allclose(batch.mean(0), torch.zeros(3), atol=1e-6)
    assert torch.allclose(batch.std(0, unbiased=False), torch.ones(3), atol=1e-4)
    assert torch.equal(normalize_target(t, "none"), t)
    assert not normalize_target(t.requires_grad_(), "layer").requires_grad
    with pytest.raises(ValueError):
        normalize_target(t, "group")


def _line_graph(n: int = 6, f: int = 5) -> Data:
    src = torch.arange(n - 1)
    ei = torch.cat([torch.stack([src, src + 1]), torch.stack([src + 1, src])], 1)
    x_feat = torch.randn(n, f, generator=torch.Generator().manual_seed(1))
    return Data(x=torch.zeros(n, 0, dtype=torch.long), x_feat=x_feat, edge_index=ei,
                edge_attr=torch.zeros(ei.size(1), 0, dtype=torch.long), edge_feat=torch.zeros(ei.size(1), 0),
                num_nodes=n)


def test_view_contributions_shares_and_a_dead_view() -> None:
    data = _line_graph()
    torch.manual_seed(0)
    cfg = HarmonyEncoderConfig.code_faithful(hidden_dim=8, wgcn_hidden=8, mlp_hidden=8, heads=2, readout="mean")
    enc = HarmonyEncoder(cfg, InputDims((), 5, (), 0), num_edges=data.edge_index.size(1)).train()
    shares = view_contributions(enc, data)
    assert list(shares) == ["linear", "wgcn0_2hop", "wgcn1_2hop", "mlp"]
    assert sum(shares.values()) == pytest.approx(1.0) and all(v > 0 for v in shares.values())
    assert enc.training  # mode restored
    with torch.no_grad():  # a view whose token is already zero carries nothing
        enc.fused_in.weight[:8].zero_()
        enc.lin_bias.zero_()
    assert view_contributions(enc, data)["linear"] == pytest.approx(0.0, abs=1e-7)
