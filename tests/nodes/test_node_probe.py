"""The logistic-regression probe and the val-based epoch selection."""

from __future__ import annotations

import math

import pytest
import torch

from harmony_mol.benchmark.nodes.probe import linear_probe
from harmony_mol.benchmark.nodes.train import select_epoch
from harmony_mol.trainer import warmup_cosine


def _blobs(n: int = 300, d: int = 16, c: int = 3, sep: float = 4.0, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % c
    centers = torch.randn(c, d, generator=g) * sep
    z = centers[y] + torch.randn(n, d, generator=g)
    idx = torch.randperm(n, generator=g)
    masks = [torch.zeros(n, dtype=torch.bool) for _ in range(3)]
    masks[0][idx[:150]] = True
    masks[1][idx[150:225]] = True
    masks[2][idx[225:]] = True
    return z, y, masks


def test_probe_separable_data_high_accuracy() -> None:
    z, y, (tr, va, te) = _blobs()
    res = linear_probe(z, y, tr, va, te, 3, lr=0.05, epochs=100)
    assert res.test_acc > 0.95 and res.val_acc > 0.95 and 0 <= res.best_epoch < 100


def test_probe_random_labels_near_chance() -> None:
    z, _, (tr, va, te) = _blobs()
    y = torch.randint(0, 3, (z.shape[0],), generator=torch.Generator().manual_seed(1))
    res = linear_probe(z, y, tr, va, te, 3, lr=0.05, epochs=100)
    assert res.test_acc < 0.6


def test_probe_is_deterministic_and_validates_inputs() -> None:
    z, y, (tr, va, te) = _blobs()
    a = linear_probe(z, y, tr, va, te, 3, epochs=20, seed=3)
    b = linear_probe(z, y, tr, va, te, 3, epochs=20, seed=3)
    assert a == b
    with pytest.raises(ValueError):
        linear_probe(z, y, tr.long(), va, te, 3)
    with pytest.raises(ValueError):
        linear_probe(z, y, torch.zeros_like(tr), va, te, 3)


def test_selection_uses_validation_not_test() -> None:
    curve = [(10, 0.50, 0.90), (20, 0.70, 0.60), (30, 0.70, 0.95), (40, 0.65, 0.99)]
    r = select_epoch(0, 0, curve, 1.0)
    assert (r.epoch_val, r.test_at_val) == (20, 0.60)  # best val, earliest on ties
    assert (r.epoch_test_max, r.test_max) == (40, 0.99)  # the official code's (optimistic) rule


def test_lr_schedule_warmup_then_cosine() -> None:
    def node(e: int, w: int, t: int) -> float:
        return warmup_cosine(e, t, w, angle_first=True)

    assert node(0, 10, 100) == pytest.approx(0.1)
    assert node(9, 10, 100) == pytest.approx(1.0)
    assert node(10, 10, 100) == pytest.approx(1.0)
    assert node(55, 10, 100) == pytest.approx(0.5)
    assert node(100, 10, 100) == pytest.approx(0.0, abs=1e-9)


def test_node_schedule_keeps_its_rounding_bit_for_bit() -> None:
    """The node mode's and GraphMAE's own formulas (before they moved to trainer.py), for every epoch."""
    for total in (6, 9, 60, 100, 200, 300):
        for w in (0, 2, 3, 6, 10, 30):
            span = max(total - w, 1)
            for e in range(total + 1):
                old = (e + 1) / w if e < w else 0.5 * (1.0 + math.cos(math.pi * min(e - w, span) / span))
                assert warmup_cosine(e, total, w, angle_first=True) == old
        for e in range(total + 1):  # GraphMAE's cosine_factor
            assert warmup_cosine(e, total, 0, angle_first=True) == 0.5 * (1.0 + math.cos(math.pi * e / total))
