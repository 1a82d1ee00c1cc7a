"""Loss-curve CSV and PNG of a pretraining run."""

from __future__ import annotations

import csv
from pathlib import Path

from harmony_mol.utils.io import atomic_open, atomic_save_figure

COLUMNS = ("step", "epoch", "loss", "lr", "teacher_std", "teacher_rank", "mask_frac", "graphs_per_s")


def write_curve_csv(rows: list[list[float]], path: str | Path) -> None:
    """Write the loss-curve rows (one per ``log_every`` steps, columns :data:`COLUMNS`) atomically."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows([int(r[0]), int(r[1])] + [f"{v:.6g}" for v in r[2:]] for r in rows)


def plot_curve(rows: list[list[float]], path: str | Path) -> None:
    """Loss (log scale) and teacher std against step, as a PNG (matplotlib Agg)."""
    if not rows:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r[0] for r in rows]
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
    ax[0].plot(steps, [r[2] for r in rows])
    ax[0].set(yscale="log", xlabel="step", ylabel="SSL loss")
    ax[1].plot(steps, [r[4] for r in rows], label="teacher per-dim std")
    ax[1].set(xlabel="step")
    ax[1].legend()
    fig.tight_layout()
    atomic_save_figure(fig, path, dpi=100)
