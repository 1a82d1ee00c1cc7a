"""Diagnostic plots of a fine-tuning run (matplotlib Agg backend, PNG files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from harmony_mol.utils.io import atomic_save_figure


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    return atomic_save_figure(fig, path, dpi=110, bbox_inches="tight")


def parity_plot(y_true: np.ndarray, y_pred: np.ndarray, target_names: Sequence[str], path: Path,
                title: str = "") -> Path:
    """Predicted vs. true per task (``[G, T]`` arrays, NaN labels skipped), with the y = x line."""
    from harmony_mol.data.registry import target_unit

    plt = _pyplot()
    t = len(target_names)
    cols = min(t, 3)
    rows = (t + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 4 * rows), squeeze=False)
    for k, name in enumerate(target_names):
        ax = axes.flat[k]
        keep = ~np.isnan(y_true[:, k])
        yt, yp = y_true[keep, k], y_pred[keep, k]
        ax.scatter(yt, yp, s=8, alpha=0.6)
        unit = target_unit(name)
        suffix = f" ({unit})" if unit else ""
        if yt.size:
            lo, hi = float(min(yt.min(), yp.min())), float(max(yt.max(), yp.max()))
            ax.plot([lo, hi], [lo, hi], "k--", lw=1)
            rmse = float(np.sqrt(np.mean((yt - yp) ** 2)))
            ss_tot = float(np.sum((yt - yt.mean()) ** 2))
            r2 = f"{1.0 - float(np.sum((yt - yp) ** 2)) / ss_tot:.3f}" if ss_tot > 0 else "n/a"
            ax.set_title(f"{name}\nR² {r2}, RMSE {rmse:.3g}{' ' + unit if unit else ''}, n={yt.size}", fontsize=9)
        ax.set_xlabel(f"true{suffix}")
        ax.set_ylabel(f"predicted{suffix}")
    for ax in axes.flat[t:]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def roc_plot(y_true: np.ndarray, y_score: np.ndarray, target_names: Sequence[str], path: Path,
             title: str = "", max_tasks: int = 12) -> Path:
    """ROC curves (one line per task with both classes; at most ``max_tasks`` drawn)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    drawn = 0
    for k, name in enumerate(target_names):
        keep = ~np.isnan(y_true[:, k])
        yt, ys = y_true[keep, k], y_score[keep, k]
        if np.unique(yt).size < 2 or drawn >= max_tasks:
            continue
        fpr, tpr, _ = roc_curve(yt, ys)
        ax.plot(fpr, tpr, lw=1, label=f"{name} ({roc_auc_score(yt, ys):.3f})")
        drawn += 1
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    if drawn:
        ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title or "ROC")
    return _save(fig, path)


def learning_curves(histories: dict[int, list[dict[str, float]]], metric: str, path: Path,
                    selected: dict[int, int] | None = None) -> Path:
    """Train loss and validation ``metric`` per epoch, one line per seed, the kept ``selected[seed]`` epoch marked."""
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for seed, hist in histories.items():
        ep = [h["epoch"] for h in hist]
        loss = [h["train_loss"] for h in hist]
        vals = [np.nan if h.get("val_metric") is None else h["val_metric"] for h in hist]
        marker = "." if len(ep) < 30 else None
        line = a1.plot(ep, loss, marker=marker, label=f"seed {seed}")[0]
        a2.plot(ep, vals, marker=marker, color=line.get_color(), label=f"seed {seed}")
        best = (selected or {}).get(seed)
        if best is not None and best in ep:
            k = ep.index(best)
            for ax, ys in ((a1, loss), (a2, vals)):
                ax.axvline(best, color=line.get_color(), ls=":", lw=1)
                ax.plot([best], [ys[k]], marker="*", ms=12, color=line.get_color(), ls="none",
                        label=f"selected epoch {best} (seed {seed})" if ax is a2 else None)
    for ax, label in ((a1, "train loss"), (a2, f"validation {metric}")):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=7)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
    a1.set_yscale("log")
    return _save(fig, path)
