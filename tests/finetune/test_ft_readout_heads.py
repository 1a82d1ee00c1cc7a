from __future__ import annotations

import pytest
import torch

from harmony_mol.nn.heads import MLPHead
from harmony_mol.nn.readout import READOUTS, GraphReadout


@pytest.mark.parametrize("kind", READOUTS)
def test_readout_shapes_and_graph_isolation(kind: str) -> None:
    torch.manual_seed(0)
    h = torch.randn(7, 4)
    batch = torch.tensor([0, 0, 0, 1, 1, 2, 2])
    pool = GraphReadout(kind, 4).eval()
    out = pool(h, batch, 3)
    assert out.shape == (3, pool.out_dim)
    h2 = h.clone()
    h2[5:] += 10.0  # change graph 2 only
    out2 = pool(h2, batch, 3)
    assert torch.allclose(out[:2], out2[:2], atol=1e-6)
    assert not torch.allclose(out[2], out2[2])


def test_mean_max_values() -> None:
    h = torch.tensor([[1.0, 0.0], [3.0, 4.0], [5.0, 6.0]])
    out = GraphReadout("mean_max", 2)(h, torch.tensor([0, 0, 1]))
    assert out.tolist() == [[2.0, 2.0, 3.0, 4.0], [5.0, 6.0, 5.0, 6.0]]
    assert GraphReadout("sum", 2)(h, torch.tensor([0, 0, 1])).tolist() == [[4.0, 4.0], [5.0, 6.0]]


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="unknown readout"):
        GraphReadout("median", 4)
    with pytest.raises(ValueError):
        MLPHead(4, 2, num_layers=0)
    with pytest.raises(ValueError):
        MLPHead(4, 2, activation="tanhh")


def test_mlp_head_shapes() -> None:
    head = MLPHead(6, 3, hidden_dim=5, num_layers=2, dropout=0.2)
    assert head(torch.randn(4, 6)).shape == (4, 3)
    probe = MLPHead(6, 1, num_layers=1)
    assert sum(isinstance(m, torch.nn.Linear) for m in probe.modules()) == 1
