"""Metrics for graph-level property prediction, per task, ignoring missing (NaN) labels.

Classification: ROC-AUC and PR-AUC (average precision); a task with a single class in a split is skipped
with a logged warning (``None``, left out of the mean). Regression: RMSE, MAE and R² in the original units.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Sequence

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

logger = logging.getLogger(__name__)

REGRESSION_METRICS = ("rmse", "mae", "r2")
#: Metric → True when larger is better (used for early stopping).
HIGHER_IS_BETTER = {"roc_auc": True, "pr_auc": True, "rmse": False, "mae": False, "r2": True, "loss": False}


def _task_pairs(y_true: np.ndarray, y_pred: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per task, the labelled entries of ``y_true`` and the matching ones of ``y_pred`` (both ``[G, T]``)."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    if y_true.shape != y_pred.shape or y_true.ndim != 2:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must both be [G, T]")
    keep = ~np.isnan(y_true)
    return [(y_true[keep[:, t], t], y_pred[keep[:, t], t]) for t in range(y_true.shape[1])]


def _mean(values: Any) -> float | None:
    """Mean of the values that are not ``None`` (``None`` when there are none)."""
    scored = [v for v in values if v is not None]
    return float(np.mean(scored)) if scored else None


def classification_metrics(y_true: np.ndarray, y_score: np.ndarray, target_names: Sequence[str],
                           split: str = "") -> dict[str, Any]:
    """ROC-AUC and PR-AUC per task and their mean over the tasks that have both classes.

    ``y_true`` holds ``[G, T]`` labels in {0, 1} (NaN = missing), ``y_score`` scores (probabilities or logits;
    only the ranking matters); ``split`` names the split in the warning for skipped tasks.

    Returns:
        ``{"roc_auc": {task: value|None}, "pr_auc": {...}, "roc_auc_mean": float|None,
        "pr_auc_mean": ..., "n_tasks_scored": int, "skipped_tasks": [...]}``.
    """
    roc: dict[str, float | None] = {}
    pr: dict[str, float | None] = {}
    skipped: list[str] = []
    for name, (yt, ys) in zip(target_names, _task_pairs(y_true, y_score)):
        if yt.size == 0 or np.unique(yt).size < 2:
            skipped.append(name)
            roc[name] = pr[name] = None
            continue
        roc[name] = float(roc_auc_score(yt, ys))
        pr[name] = float(average_precision_score(yt, ys))
    if skipped:
        logger.warning(
            "%s: %d task(s) skipped for ROC/PR-AUC (a single class or no labels in this split): %s",
            split or "metrics", len(skipped), ", ".join(skipped[:10]) + (" ..." if len(skipped) > 10 else ""),
        )
    return {"roc_auc": roc, "pr_auc": pr, "roc_auc_mean": _mean(roc.values()), "pr_auc_mean": _mean(pr.values()),
            "n_tasks_scored": sum(v is not None for v in roc.values()), "skipped_tasks": skipped}


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray, target_names: Sequence[str]) -> dict[str, Any]:
    """RMSE, MAE and R² per task of ``[G, T]`` arrays in original units (NaN labels ignored), and their means."""
    res: dict[str, dict[str, float | None]] = {m: {} for m in REGRESSION_METRICS}
    for name, (yt, yp) in zip(target_names, _task_pairs(y_true, y_pred)):
        if yt.size == 0:
            res["rmse"][name] = res["mae"][name] = res["r2"][name] = None
            continue
        err = yp - yt
        res["rmse"][name] = float(math.sqrt(np.mean(err**2)))
        res["mae"][name] = float(np.mean(np.abs(err)))
        ss_tot = float(np.sum((yt - yt.mean()) ** 2))
        res["r2"][name] = float(1.0 - np.sum(err**2) / ss_tot) if ss_tot > 0 else None
    return {**res, **{f"{m}_mean": _mean(res[m].values()) for m in REGRESSION_METRICS}}


def compute_metrics(task_type: str, y_true: np.ndarray, y_pred: np.ndarray, target_names: Sequence[str],
                    split: str = "") -> dict[str, Any]:
    """Dispatch to :func:`classification_metrics` or :func:`regression_metrics`."""
    if task_type == "classification":
        return classification_metrics(y_true, y_pred, target_names, split)
    if task_type == "regression":
        return regression_metrics(y_true, y_pred, target_names)
    raise ValueError(f"unknown task type {task_type!r} (classification | regression)")


def headline(metrics: dict[str, Any], name: str) -> float | None:
    """The mean value of metric ``name`` (e.g. ``roc_auc`` → ``roc_auc_mean``) or ``None``."""
    return metrics.get(f"{name}_mean", metrics.get(name) if not isinstance(metrics.get(name), dict) else None)
