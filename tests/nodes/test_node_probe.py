"""The logistic-regression probe and the val-based epoch selection."""

from __future__ import annotations

import pytest
import torch

from harmony_mol.nodes.probe import linear_probe
from harmony_mol.nodes.train import _lr_factor, _select


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
    r = _select(0, 0, curve, 1.0)
    assert (r.epoch_val, r.test_at_val) == (20, 0.60)  # best val, earliest on ties
    assert (r.epoch_test_max, r.test_max) == (40, 0.99)  # the official code's (optimistic) rule


def test_lr_schedule_warmup_then_cosine() -> None:
    assert _lr_factor(0, 10, 100) == pytest.approx(0.1)
    assert _lr_factor(9, 10, 100) == pytest.approx(1.0)
    assert _lr_factor(10, 10, 100) == pytest.approx(1.0)
    assert _lr_factor(55, 10, 100) == pytest.approx(0.5)
    assert _lr_factor(100, 10, 100) == pytest.approx(0.0, abs=1e-9)
