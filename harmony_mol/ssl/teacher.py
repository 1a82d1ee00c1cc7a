"""EMA teacher for the student-teacher objective (H3GNNs §3.1).

The teacher is a frozen deep copy of the freshly initialised student, updated after every optimiser
step as ``psi <- m * psi + (1 - m) * phi`` on parameters, with the buffers (BatchNorm running statistics)
copied from the student unless ``copy_buffers=False`` (the official code never synchronises them).
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

__all__ = ["make_teacher", "ema_update", "momentum_at"]


def make_teacher(student: nn.Module) -> nn.Module:
    """Deep copy of ``student`` with gradients switched off."""
    return copy.deepcopy(student).requires_grad_(False)


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, momentum: float, copy_buffers: bool = True) -> None:
    """In-place EMA of parameters; optionally copy floating and integer buffers.

    Raises:
        ValueError: if ``momentum`` is outside [0, 1] or the two modules differ in structure.
    """
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"EMA momentum must be in [0, 1], got {momentum}")
    t_params, s_params = list(teacher.parameters()), list(student.parameters())
    if len(t_params) != len(s_params):
        raise ValueError("teacher and student have different parameter lists")
    t_data = [p.data for p in t_params]
    s_data = [p.data.to(p_t.dtype) for p, p_t in zip(s_params, t_params)]
    torch._foreach_mul_(t_data, momentum)
    torch._foreach_add_(t_data, s_data, alpha=1.0 - momentum)
    if copy_buffers:
        for b_t, b_s in zip(teacher.buffers(), student.buffers()):
            b_t.copy_(b_s)


def momentum_at(step: int, total_steps: int, base: float, final: float | None = None,
                schedule: str = "constant") -> float:
    """EMA momentum at ``step``: ``base`` (``constant``) or ``final - (final - base) (1 + cos(pi t / T)) / 2``."""
    if schedule == "constant" or final is None:
        return float(base)
    if schedule != "cosine":
        raise ValueError(f"unknown momentum schedule {schedule!r}; use constant or cosine")
    t = min(max(step, 0), max(total_steps, 1)) / max(total_steps, 1)
    return float(final - (final - base) * (1.0 + math.cos(math.pi * t)) / 2.0)
