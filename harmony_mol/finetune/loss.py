"""NaN-masked multitask losses and class weights (target standardisation: ``harmony_mol/models/scaler.py``).

Missing labels are NaN in ``y``; every loss here averages only over the labelled entries, so a
molecule with 3 of 12 Tox21 labels contributes exactly 3 terms.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


def _labels(out: Tensor, y: Tensor, what: str) -> tuple[Tensor, Tensor]:
    """``(mask of labelled entries, y with NaN replaced by 0)``, after checking the shapes match."""
    if out.shape != y.shape:
        raise ValueError(f"{what} {tuple(out.shape)} and y {tuple(y.shape)} differ")
    mask = ~torch.isnan(y)
    return mask, torch.where(mask, y, torch.zeros_like(y))


def masked_bce_with_logits(logits: Tensor, y: Tensor, pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross-entropy over labelled entries only (``y`` in {0, 1}, NaN = missing).

    Shapes:
        - logits, y: ``[B, T]``; pos_weight (per-task weight of positives): ``[T]``
        - output: scalar (0 when nothing is labelled, still differentiable)
    """
    mask, target = _labels(logits, y, "logits")
    per = F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight, reduction="none")
    return (per * mask).sum() / mask.sum().clamp(min=1)


def masked_regression_loss(pred: Tensor, y: Tensor, kind: str = "mse") -> Tensor:
    """MSE / L1 / smooth-L1 over labelled entries only (inputs already standardised).

    Shapes:
        - pred, y: ``[B, T]``; output: scalar
    """
    mask, target = _labels(pred, y, "pred")
    if kind == "mse":
        per = (pred - target) ** 2
    elif kind == "l1":
        per = (pred - target).abs()
    elif kind == "huber":
        per = F.smooth_l1_loss(pred, target, reduction="none")
    else:
        raise ValueError(f"unknown regression loss {kind!r} (mse | l1 | huber)")
    return (per * mask).sum() / mask.sum().clamp(min=1)


def positive_weights(y: np.ndarray, max_weight: float = 50.0) -> np.ndarray:
    """Per-task ``n_neg / n_pos`` from training labels ``[G, T]`` (NaN ignored), clipped to [1/max, max]."""
    y = np.asarray(y, dtype=np.float64)
    pos = (y > 0.5).sum(axis=0).astype(np.float64)
    neg = (~np.isnan(y)).sum(axis=0) - pos
    both = (pos > 0) & (neg > 0)
    out = np.ones(y.shape[1], dtype=np.float32)
    out[both] = np.clip(neg[both] / pos[both], 1.0 / max_weight, max_weight)
    return out


def infer_task_type(y: np.ndarray) -> str:
    """``classification`` if every labelled value is 0 or 1, else ``regression``."""
    y = np.asarray(y, dtype=np.float64)
    vals = y[~np.isnan(y)]
    return "classification" if vals.size and np.isin(vals, (0.0, 1.0)).all() else "regression"
