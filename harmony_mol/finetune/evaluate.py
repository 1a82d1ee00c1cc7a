"""Batch inference over dataset indices, shared by training, bundle checks and benchmarks."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from harmony_mol.models.property_model import PropertyModel
from harmony_mol.models.scaler import TargetScaler


def outputs_to_predictions(out: torch.Tensor, task_type: str, scaler: TargetScaler) -> torch.Tensor:
    """Model outputs ``[B, T]`` → probabilities (classification) or values in original units (regression)."""
    return torch.sigmoid(out) if task_type == "classification" else scaler.inverse(out)


@torch.no_grad()
def split_metrics(
    model: PropertyModel, tensors: dict[str, torch.Tensor], split: dict[str, list[int]], tasks: Sequence[int],
    task_type: str, scaler: TargetScaler, target_names: Sequence[str], batch_size: int, device: Any,
) -> tuple[dict[str, Any], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Metrics and arrays of every non-empty split of dataset indices (``tensors``: ``GraphDataset.tensors()``).

    The arrays are ``(y_true [G, T], y_pred [G, T])`` float64, in the order of the split's indices, for the
    columns ``tasks`` of ``y``. Keep ``batch_size`` fixed to reproduce metrics bit for bit.
    """
    from harmony_mol.data.loaders import FastGraphLoader
    from harmony_mol.finetune.metrics import compute_metrics

    model.eval()
    cols = torch.as_tensor(list(tasks), dtype=torch.long)
    metrics: dict[str, Any] = {}
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, idx in split.items():
        if not idx:
            continue
        loader = FastGraphLoader(tensors, batch_size=batch_size, shuffle=False, seed=0, device=device,
                                 indices=[int(i) for i in idx])
        ys, ps = [], []
        for batch in loader:
            ps.append(outputs_to_predictions(model(batch), task_type, scaler).double().cpu())
            ys.append(batch.y[:, cols.to(batch.y.device)].double().cpu())
        yt, yp = torch.cat(ys).numpy(), torch.cat(ps).numpy()
        metrics[name] = {**compute_metrics(task_type, yt, yp, target_names, split=name), "n": len(idx)}
        arrays[name] = (yt, yp)
    return metrics, arrays
