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
def predict_indices(
    model: PropertyModel, tensors: dict[str, torch.Tensor], indices: Sequence[int], tasks: Sequence[int],
    task_type: str, scaler: TargetScaler, batch_size: int = 256, device: torch.device | str = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """Predict the graphs ``indices`` of a dataset (``GraphDataset.tensors()``), in that order.

    ``tasks`` are the columns of ``y`` the model predicts; keep ``batch_size`` fixed to reproduce metrics
    bit for bit.

    Returns:
        ``(y_true [G, T], y_pred [G, T])`` float64 numpy arrays in the order of ``indices``.
    """
    from harmony_mol.data.loaders import FastGraphLoader

    model.eval()
    idx = [int(i) for i in indices]
    if not idx:
        return np.zeros((0, len(tasks))), np.zeros((0, len(tasks)))
    loader = FastGraphLoader(tensors, batch_size=batch_size, shuffle=False, seed=0, device=device, indices=idx)
    cols = torch.as_tensor(list(tasks), dtype=torch.long)
    ys, ps = [], []
    for batch in loader:
        ps.append(outputs_to_predictions(model(batch), task_type, scaler).double().cpu())
        ys.append(batch.y[:, cols.to(batch.y.device)].double().cpu())
    return torch.cat(ys).numpy(), torch.cat(ps).numpy()


def split_metrics(
    model: PropertyModel, tensors: dict[str, torch.Tensor], split: dict[str, list[int]], tasks: Sequence[int],
    task_type: str, scaler: TargetScaler, target_names: Sequence[str], batch_size: int, device: Any,
) -> tuple[dict[str, Any], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Metrics (and the arrays) of every non-empty split."""
    from harmony_mol.finetune.metrics import compute_metrics

    metrics: dict[str, Any] = {}
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, idx in split.items():
        if not idx:
            continue
        yt, yp = predict_indices(model, tensors, idx, tasks, task_type, scaler, batch_size, device)
        metrics[name] = compute_metrics(task_type, yt, yp, target_names, split=name)
        metrics[name]["n"] = len(idx)
        arrays[name] = (yt, yp)
    return metrics, arrays
