"""EMA math, momentum ramp, losses on known inputs, LR schedule, collapse monitors."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from harmony_mol.ssl.objective import collapse_stats, graph_level_loss, graph_mean, per_node_loss, ssl_loss
from harmony_mol.ssl.teacher import ema_update, make_teacher, momentum_at
from harmony_mol.trainer import warmup_cosine


def test_ema_update_math_and_buffers() -> None:
    torch.manual_seed(0)
    student = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    teacher = make_teacher(student)
    assert all(not p.requires_grad for p in teacher.parameters())
    before = [p.clone() for p in teacher.parameters()]
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
    student(torch.randn(8, 3))  # changes BN running stats
    ema_update(teacher, student, 0.9, copy_buffers=False)
    for t, b, s in zip(teacher.parameters(), before, student.parameters()):
        assert torch.allclose(t, 0.9 * b + 0.1 * s)
    assert not torch.equal(teacher[1].running_mean, student[1].running_mean)
    ema_update(teacher, student, 1.0, copy_buffers=True)
    assert torch.equal(teacher[1].running_mean, student[1].running_mean)
    with pytest.raises(ValueError):
        ema_update(teacher, student, 1.5)


def test_momentum_schedules() -> None:
    assert momentum_at(50, 100, 0.99) == 0.99
    assert momentum_at(0, 100, 0.99, 0.999, "cosine") == pytest.approx(0.99)
    assert momentum_at(50, 100, 0.99, 0.999, "cosine") == pytest.approx(0.9945)
    assert momentum_at(100, 100, 0.99, 0.999, "cosine") == pytest.approx(0.999)


def test_losses_on_known_inputs() -> None:
    s = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    t = torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    assert per_node_loss(s, t, "l2").tolist() == [1.0, 1.0]
    assert per_node_loss(s, t, "mse").tolist() == [0.5, 0.5]
    # node 1 is parallel (cos = 1); node 0 has a zero teacher (cos = 0)
    assert per_node_loss(s, t, "byol").tolist() == pytest.approx([2.0, 0.0])
    assert per_node_loss(s, t, "sce", alpha=3).tolist() == pytest.approx([1.0, 0.0])


def test_loss_is_per_graph_then_over_graphs() -> None:
    values = torch.tensor([1.0, 1.0, 1.0, 4.0])  # graph 0 has 3 nodes, graph 1 one
    batch = torch.tensor([0, 0, 0, 1])
    assert graph_mean(values, batch).item() == pytest.approx(2.5)  # not the node mean 1.75
    s = torch.tensor([[1.0], [1.0], [1.0], [2.0]])
    loss, node = ssl_loss(s, torch.zeros(4, 1), batch, mask=torch.tensor([True, False, False, False]),
                          masked_weight=3.0)
    assert node.tolist() == [1.0, 1.0, 1.0, 4.0]
    assert loss.item() == pytest.approx((1.0 + 4.0) / 2)


def test_graph_level_term_compares_pooled_means() -> None:
    batch = torch.tensor([0, 0, 0, 1])
    t = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0], [5.0, 5.0]])
    s = t.clone()
    s[0], s[1] = t[1], t[0]  # swapping nodes inside a graph leaves its mean unchanged
    assert graph_level_loss(s, t, batch) == 0 and ssl_loss(s, t, batch)[0] > 0
    s[3] = torch.tensor([6.0, 5.0])  # graph 1's mean is off by (1, 0): l2 = 1, averaged over 2 graphs
    assert math.isclose(float(graph_level_loss(s, t, batch)), 0.5)
    # an empty graph id (num_graphs larger than the batch) is ignored
    assert math.isclose(float(graph_level_loss(s, t, batch, num_graphs=3)), 0.5)
    assert math.isclose(float(graph_level_loss(s[3:], t[3:], None)), 1.0)


def test_warmup_cosine_schedule() -> None:
    assert warmup_cosine(0, 100, 10) == pytest.approx(0.1)
    assert warmup_cosine(9, 100, 10) == pytest.approx(1.0)
    assert warmup_cosine(10, 100, 10) == pytest.approx(1.0)
    assert warmup_cosine(55, 100, 10) == pytest.approx(0.5)
    assert warmup_cosine(100, 100, 10, min_factor=0.1) == pytest.approx(0.1)


def test_collapse_stats_detects_collapse() -> None:
    torch.manual_seed(0)
    healthy = collapse_stats(torch.randn(500, 16))
    collapsed = collapse_stats(torch.ones(500, 16) + 1e-6 * torch.randn(500, 16))
    assert healthy["teacher_std"] > 0.8 and healthy["teacher_rank"] > 12
    assert collapsed["teacher_std"] < 1e-3
    rank1 = collapse_stats(torch.randn(500, 1) * torch.ones(1, 16))
    assert rank1["teacher_rank"] < 1.5
    assert not math.isnan(healthy["teacher_rank"])
