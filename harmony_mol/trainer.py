"""The one training loop of the package: pretraining, fine-tuning, the node mode and its baselines.

Runs plug a loss function (forward pass -> 0-d loss) into :func:`fit`, which owns the optimiser step
(:class:`Optim`), periodic evaluation with best-epoch selection and early stopping, and the checkpoint
hook: one flat loop as in nanoGPT's ``train.py``. It sits below ``ssl``, ``finetune`` and the node mode
(tests/test_layering.py). Steps wrap their forward passes in :func:`autocast` themselves: the SSL step
keeps its heads and losses in float32 (its bf16 numbers on GPU depend on that).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import torch
from torch import Tensor, nn

__all__ = ["resolve_device", "warmup_cosine", "make_scheduler", "autocast", "Optim", "LoopState", "fit"]

B = TypeVar("B")


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """``auto`` or ``None`` -> CUDA when available, else CPU; otherwise ``torch.device(name)``.

    Raises:
        ValueError: a CUDA device was asked for but none is available.
    """
    if name is None or name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    return dev


def warmup_cosine(step: int, total_steps: int, warmup_steps: int, min_factor: float = 0.0,
                  angle_first: bool = False) -> float:
    """LR factor of optimiser step ``step`` (from 0): linear warm-up then cosine decay to ``min_factor``.

    ``angle_first`` computes the cosine's angle as ``pi * k / span`` (the node mode and GraphMAE) instead
    of ``pi * (k / span)``: the two differ in the last bit, and committed numbers depend on each.
    """
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    k = step - warmup_steps
    angle = math.pi * min(k, span) / span if angle_first else math.pi * min(1.0, k / span)
    return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(angle))


def make_scheduler(optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int,
                   min_factor: float = 0.0, angle_first: bool = False) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step ``LambdaLR`` with :func:`warmup_cosine` (its state_dict is resume-safe)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_cosine(s, total_steps, warmup_steps,
                                                                             min_factor, angle_first))


def autocast(device: torch.device, bf16: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA when asked; a no-op on CPU (CPU runs stay in float32)."""
    if bf16 and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@dataclass
class Optim:
    """One optimiser step of a run.

    Attributes:
        optimizer: Any ``torch.optim`` optimiser.
        params: The trained parameters (their global gradient norm is clipped).
        scheduler: Stepped once per optimiser step; ``None`` = constant LR.
        grad_clip: Max global gradient norm (``<= 0``: no clipping).
    """

    optimizer: torch.optim.Optimizer
    params: list[nn.Parameter]
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
    grad_clip: float = 0.0

    def step(self, loss: Tensor) -> None:
        """Backpropagate ``loss`` (0-d) and take the step; gradients stay set until the next one."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip > 0:  # parameters without a gradient are skipped
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()


@dataclass
class LoopState:
    """Where a run stands; :func:`fit` advances it and a checkpoint may save it.

    Attributes:
        step: Optimiser steps taken.
        epoch: Current epoch, from 0.
        batch: Batches of ``epoch`` already taken (a resumed run skips them).
        best: Best evaluation score so far (higher is better).
        best_epoch: Epoch (from 1) of that score; ``-1`` before the first evaluation.
        bad: Evaluations since the best one.
        stopped: Early stopping triggered at this evaluation.
    """

    step: int = 0
    epoch: int = 0
    batch: int = 0
    best: float = -math.inf
    best_epoch: int = -1
    bad: int = 0
    stopped: bool = False


def fit(loss_fn: Callable[[B, LoopState], Tensor], batches: Callable[[LoopState], Iterable[B]], optim: Optim,
        epochs: int, max_steps: int | None = None, state: LoopState | None = None,
        after_step: Callable[[B, LoopState], None] | None = None,
        evaluate: Callable[[LoopState], float | None] | None = None, eval_every: int = 1,
        after_eval: Callable[[LoopState, bool], None] | None = None, patience: int = 0,
        checkpoint: Callable[[LoopState], None] | None = None, checkpoint_every: int = 0) -> LoopState:
    """Train until ``epochs`` epochs or ``max_steps`` optimiser steps, whichever comes first.

    Args:
        loss_fn: Forward pass of one batch -> 0-d loss (``state.step`` is the step about to be taken).
        batches: The batches of ``state.epoch`` from ``state.batch`` on; called at each epoch start (it
            may also set train / eval modes).
        optim: The optimiser step.
        epochs: Epochs to run.
        max_steps: Stop after this many optimiser steps (``None``: no limit).
        state: Resume from here (default: a fresh run).
        after_step: Called after every optimiser step (``state.step`` already counts it).
        evaluate: Score after an epoch (higher is better; ``None`` = no score to select on).
        eval_every: Evaluate after every this many epochs and after the last.
        after_eval: Called after each evaluation with whether it was the best so far.
        patience: Stop after this many evaluations without a better score (0: never).
        checkpoint: Saves the run every ``checkpoint_every`` steps (0: never) and at each epoch end, but
            not after the last step (the caller writes its final files itself).
        checkpoint_every: Steps between checkpoints.

    Returns:
        The state at the end (``step``, ``epoch`` of the last step; ``best_epoch`` of the selection).
    """
    st = state if state is not None else LoopState()
    limit = math.inf if max_steps is None else max_steps
    while st.step < limit and st.epoch < epochs:
        for batch in batches(st):
            optim.step(loss_fn(batch, st))
            st.step += 1
            st.batch += 1
            if after_step is not None:
                after_step(batch, st)
            if checkpoint is not None and checkpoint_every and st.step % checkpoint_every == 0 and st.step < limit:
                checkpoint(st)
            if st.step >= limit:
                break
        if evaluate is not None and ((st.epoch + 1) % eval_every == 0 or st.epoch + 1 == epochs):
            score = evaluate(st)  # the first one is always kept, so an undefined score still selects an epoch
            improved = score is not None and (score > st.best or st.best_epoch < 0)
            if improved:
                st.best, st.best_epoch, st.bad = score, st.epoch + 1, 0
            else:
                st.bad += 1
            st.stopped = bool(patience) and st.bad >= patience
            if after_eval is not None:
                after_eval(st, improved)
            if st.stopped:
                break
        if st.step >= limit:
            break  # the epoch counter stays on the epoch of the last step (checkpoints record it)
        st.epoch, st.batch = st.epoch + 1, 0
        if checkpoint is not None:
            checkpoint(st)
    return st
