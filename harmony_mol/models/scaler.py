"""Per-task target standardisation, fitted on the training split and stored in the model bundle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor


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
        cols = [y[~np.isnan(y[:, t]), t] for t in range(y.shape[1])]
        means = tuple(float(c.mean()) if c.size else 0.0 for c in cols)
        stds = (float(c.std()) if c.size > 1 else 1.0 for c in cols)
        return cls(means, tuple(s if s > 1e-12 else 1.0 for s in stds))

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

    def _tensors(self, ref: Tensor) -> tuple[Tensor, Tensor]:
        return (torch.tensor(self.mean, dtype=ref.dtype, device=ref.device),
                torch.tensor(self.std, dtype=ref.dtype, device=ref.device))

    def to_dict(self) -> dict[str, Any]:
        """``{"mean": [...], "std": [...]}`` as stored in the bundle."""
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TargetScaler:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(float(v) for v in d["mean"]), tuple(float(v) for v in d["std"]))
