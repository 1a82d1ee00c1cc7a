"""Linear probe (logistic regression) on frozen node embeddings, as in the paper's evaluation (H3GNNs §4.1).

A single ``Linear(d, C)`` trained full-batch with cross-entropy on the training mask (Adam); the test
accuracy at the best validation accuracy over the probe epochs (earliest epoch wins ties) is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ProbeResult:
    """Outcome of one probe fit (accuracies in [0, 1])."""

    val_acc: float
    test_acc: float
    best_epoch: int


def accuracy(pred: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> float:
    """Share of ``mask`` nodes with ``pred == y`` (NaN for an empty mask); all three ``[N]``."""
    n = int(mask.sum())
    return float((pred[mask] == y[mask]).sum()) / n if n else float("nan")


def linear_probe(z: torch.Tensor, y: torch.Tensor, train_mask: torch.Tensor, val_mask: torch.Tensor,
                 test_mask: torch.Tensor, num_classes: int, lr: float = 0.01, weight_decay: float = 1e-4,
                 epochs: int = 300, seed: int = 0) -> ProbeResult:
    """Fit a logistic-regression probe on the frozen ``z`` (``epochs`` full-batch Adam steps on ``train_mask``).

    The probe epoch is selected on ``val_mask``; ``seed`` seeds its initialisation (a private generator,
    the global RNG is untouched). Raises ``ValueError`` on a shape mismatch, an empty train/val mask or
    non-positive epochs.

    Shapes:
        z: [N, d] (detached inside); y: [N] integer labels; masks: [N] bool.
    """
    if z.dim() != 2 or y.shape[0] != z.shape[0]:
        raise ValueError(f"z must be [N, d] and y [N]; got {tuple(z.shape)} and {tuple(y.shape)}")
    for name, m in (("train_mask", train_mask), ("val_mask", val_mask), ("test_mask", test_mask)):
        if m.shape != y.shape or m.dtype != torch.bool:
            raise ValueError(f"{name} must be a bool tensor of shape {tuple(y.shape)}")
    if not bool(train_mask.any()) or not bool(val_mask.any()):
        raise ValueError("train_mask and val_mask must select at least one node")
    if epochs <= 0:
        raise ValueError(f"epochs must be positive, got {epochs}")
    z = z.detach().float()
    gen = torch.Generator(device="cpu").manual_seed(seed)
    clf = nn.Linear(z.shape[1], num_classes).to(z.device)
    with torch.no_grad():
        bound = 1.0 / max(z.shape[1], 1) ** 0.5
        clf.weight.copy_(torch.empty(clf.weight.shape).uniform_(-bound, bound, generator=gen))
        clf.bias.copy_(torch.empty(clf.bias.shape).uniform_(-bound, bound, generator=gen))
    opt = torch.optim.Adam(clf.parameters(), lr=lr, weight_decay=weight_decay)
    best = ProbeResult(-1.0, float("nan"), -1)
    for epoch in range(epochs):  # a 300-step logistic regression: too small for the run loop's hooks
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(clf(z[train_mask]), y[train_mask]).backward()
        opt.step()
        with torch.no_grad():
            pred = clf(z).argmax(1)
        val = accuracy(pred, y, val_mask)
        if val > best.val_acc:
            best = ProbeResult(val, accuracy(pred, y, test_mask), epoch)
    return best
