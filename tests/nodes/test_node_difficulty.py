"""Node mode: the ``unmasked`` difficulty source masks by the current student's error on the unmasked graph."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data

import harmony_mol.benchmark.nodes.train as T
from harmony_mol.benchmark.nodes.config import NodeRunConfig
from harmony_mol.ssl.masking import node_difficulty


def _step(pt, epoch: int) -> float:
    """One whole step of the run, as ``trainer.fit`` takes it."""
    pt.optim.step(pt.loss(epoch))
    pt.after_update()
    return pt.last_loss


def _graph(n: int = 24) -> Data:
    g = torch.Generator().manual_seed(0)
    src = torch.arange(n)
    ei = torch.cat([torch.stack([src, (src + 1) % n]), torch.stack([(src + 1) % n, src])], 1)
    e = ei.shape[1]
    return Data(x=torch.zeros(n, 0, dtype=torch.long), x_feat=torch.randn(n, 6, generator=g), edge_index=ei,
                edge_attr=torch.zeros(e, 0, dtype=torch.long), edge_feat=torch.zeros(e, 0), num_nodes=n)


@pytest.mark.parametrize("source", ["previous", "unmasked"])
def test_difficulty_source(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = NodeRunConfig(dataset="toy", masking="diffi", mask_warmup=1, epochs=3, warmup=1, difficulty_source=source,
                        encoder={"hidden_dim": 8, "wgcn_hidden": 8, "mlp_hidden": 8, "heads": 2, "hops": [1, 2]})
    pt = T._Pretrainer(cfg, _graph(), seed=0, device=torch.device("cpu"))
    seen: list[torch.Tensor | None] = []
    real = T.make_mask

    def spy(strategy, batch, ratio, exploit, difficulty, gen, num_graphs):
        seen.append(None if difficulty is None else difficulty.clone())
        return real(strategy, batch, ratio, exploit, difficulty, gen, num_graphs=num_graphs)

    monkeypatch.setattr(T, "make_mask", spy)
    for epoch in (1, 2):
        if source == "unmasked":
            with torch.no_grad():
                pt.student.eval()
                pt.teacher.eval()  # teacher_mode "eval" (the default), as loss() sets it
                want = node_difficulty(pt.student(pt.data), pt.teacher(pt.data))
                pt.student.train()
        else:
            want = pt.difficulty
        loss = _step(pt, epoch)
        assert loss == loss  # finite
        if want is None:
            assert seen[-1] is None  # the first step of the code's rule has no difficulty yet
        else:
            assert torch.allclose(seen[-1], want, atol=1e-6)
    assert seen[-1] is not None
