"""NaN-masked multitask losses, per-task target standardisation and class weights.

Missing labels are NaN in ``y``; every loss here averages only over the labelled entries, so a
molecule with 3 of 12 Tox21 labels contributes exactly 3 terms.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

logger = logging.getLogger(__name__)


def masked_bce_with_logits(logits: Tensor, y: Tensor, pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross-entropy over labelled entries only.

    Args:
        logits: Raw scores.
        y: Labels in {0, 1}; NaN = missing.
        pos_weight: Optional per-task weight of positive examples.

    Shapes:
        - logits, y: ``[B, T]``; pos_weight: ``[T]``
        - output: scalar (0 when nothing is labelled, still differentiable)
    """
    if logits.shape != y.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and y {tuple(y.shape)} differ")
    mask = ~torch.isnan(y)
    target = torch.where(mask, y, torch.zeros_like(y))
    per = F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight, reduction="none")
    n = mask.sum()
    return (per * mask).sum() / n.clamp(min=1)


def masked_regression_loss(pred: Tensor, y: Tensor, kind: str = "mse") -> Tensor:
    """MSE / L1 / smooth-L1 over labelled entries only (inputs already standardised).

    Shapes:
        - pred, y: ``[B, T]``; output: scalar
    """
    if pred.shape != y.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and y {tuple(y.shape)} differ")
    mask = ~torch.isnan(y)
    target = torch.where(mask, y, torch.zeros_like(y))
    if kind == "mse":
        per = (pred - target) ** 2
    elif kind == "l1":
        per = (pred - target).abs()
    elif kind == "huber":
        per = F.smooth_l1_loss(pred, target, reduction="none")
    else:
        raise ValueError(f"unknown regression loss {kind!r} (mse | l1 | huber)")
    return (per * mask).sum() / mask.sum().clamp(min=1)


@dataclass(frozen=True)
class TargetScaler:
    """Per-task standardisation ``(y - mean) / std`` fitted on the training split only.

    Stored in the model bundle as plain lists. A task with zero spread gets ``std = 1``.
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, y: np.ndarray) -> TargetScaler:
        """Fit on ``y`` ``[G, T]`` (NaN ignored); a task with no labels gets mean 0, std 1."""
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 2:
            raise ValueError(f"y must be [G, T], got shape {y.shape}")
        means, stds = [], []
        for t in range(y.shape[1]):
            col = y[~np.isnan(y[:, t]), t]
            m = float(col.mean()) if col.size else 0.0
            s = float(col.std()) if col.size > 1 else 1.0
            means.append(m)
            stds.append(s if s > 1e-12 else 1.0)
        return cls(tuple(means), tuple(stds))

    @classmethod
    def identity(cls, num_tasks: int) -> TargetScaler:
        """No-op scaler (classification)."""
        return cls((0.0,) * num_tasks, (1.0,) * num_tasks)

    def transform(self, y: Tensor) -> Tensor:
        """Standardise ``y`` ``[B, T]`` (NaN stays NaN)."""
        m, s = self._tensors(y)
        return (y - m) / s

    def inverse(self, z: Tensor) -> Tensor:
        """Back to original units: ``z * std + mean`` for ``z`` ``[B, T]``."""
        m, s = self._tensors(z)
        return z * s + m

    def inverse_std(self, z: Tensor) -> Tensor:
        """Scale a standard deviation ``[B, T]`` back to original units."""
        _, s = self._tensors(z)
        return z * s

    def _tensors(self, ref: Tensor) -> tuple[Tensor, Tensor]:
        m = torch.tensor(self.mean, dtype=ref.dtype, device=ref.device)
        s = torch.tensor(self.std, dtype=ref.dtype, device=ref.device)
        return m, s

    def to_dict(self) -> dict[str, Any]:
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TargetScaler:
        return cls(tuple(float(v) for v in d["mean"]), tuple(float(v) for v in d["std"]))


def positive_weights(y: np.ndarray, max_weight: float = 50.0) -> np.ndarray:
    """Per-task ``n_neg / n_pos`` from training labels ``[G, T]`` (NaN ignored), clipped to [1/max, max]."""
    y = np.asarray(y, dtype=np.float64)
    out = np.ones(y.shape[1], dtype=np.float32)
    for t in range(y.shape[1]):
        col = y[~np.isnan(y[:, t]), t]
        pos = float((col > 0.5).sum())
        neg = float(col.size - pos)
        if pos > 0 and neg > 0:
            out[t] = float(np.clip(neg / pos, 1.0 / max_weight, max_weight))
    return out


def infer_task_type(y: np.ndarray) -> str:
    """``classification`` if every labelled value is 0 or 1, else ``regression``."""
    y = np.asarray(y, dtype=np.float64)
    vals = y[~np.isnan(y)]
    if vals.size and np.isin(vals, (0.0, 1.0)).all():
        return "classification"
    return "regression"
