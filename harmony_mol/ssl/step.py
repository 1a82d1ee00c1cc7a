"""One teacher-student pretraining step on a batch of graphs (``pretrain`` and ``harmony speed pretrain``).

Order (H3GNNs §3.6, batched over graphs): teacher on the unmasked batch (no grad) -> pick the mask
(random / +Diffi / +Prob, difficulty from the buffer or an unmasked student pass) -> student on
the masked batch (optionally with the bonds of masked atoms hidden too) -> loss over all nodes (plus the
optional graph-level term) [:meth:`SSLStepper.loss`] -> AdamW step, LR step [:class:`~harmony_mol.trainer.Optim`]
-> EMA update -> store difficulty [:meth:`SSLStepper.after_update`].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from harmony_mol.ssl.config import PretrainConfig
from harmony_mol.ssl.difficulty import DifficultyBuffer
from harmony_mol.ssl.masking import make_mask, node_difficulty, random_mask
from harmony_mol.ssl.objective import graph_level_loss, normalize_target, ssl_loss
from harmony_mol.ssl.teacher import ema_update, momentum_at
from harmony_mol.trainer import Optim, autocast

__all__ = ["StepOutput", "SSLStepper"]


@dataclass
class StepOutput:
    """What one step reports: 0-d ``loss`` (``float()`` it only when logging), ``[N, d]`` output and target."""

    loss: Tensor
    num_graphs: int
    num_masked: Tensor
    teacher_out: Tensor
    student_out: Tensor
    batch: Any
    step: int


class SSLStepper:
    """Holds the modules and optimiser of a run and performs steps.

    Args:
        cfg: The run config (masking, objective, optim, bf16).
        student, teacher, predictor: Modules (``predictor`` may be None).
        optimizer, scheduler: AdamW and its per-step LR schedule (with ``cfg.optim.grad_clip``: :attr:`optim`).
        device: Where batches live.
        total_steps: Length of the run (EMA cosine ramp).
        buffer: Per-atom difficulty store (None for ``random`` / ``unmasked``).
        mask_generator: CPU generator driving every mask draw (saved for exact resume).
        recon_head: ``Linear(d, n_elements)`` of the attribute-masking term (``objective.recon_weight``), or None.
    """

    def __init__(self, cfg: PretrainConfig, student: nn.Module, teacher: nn.Module, predictor: nn.Module | None,
                 optimizer: torch.optim.Optimizer, scheduler: Any, device: torch.device, total_steps: int,
                 buffer: DifficultyBuffer | None, mask_generator: torch.Generator,
                 recon_head: nn.Module | None = None) -> None:
        self.cfg = cfg
        self.student, self.teacher, self.predictor, self.recon_head = student, teacher, predictor, recon_head
        self.device, self.total_steps = device, total_steps
        self.buffer, self.gen = buffer, mask_generator
        params = [p for group in optimizer.param_groups for p in group["params"]]
        self.optim = Optim(optimizer, params, scheduler, cfg.optim.grad_clip)
        self.last: StepOutput | None = None
        # the modules the trained forward pass goes through: DDP wrappers under torchrun (set by
        # harmony_mol/ssl/pretrain.py), while state dicts, EMA and no-grad passes use the plain ones
        self.student_fwd, self.predictor_fwd, self.recon_fwd = student, predictor, recon_head
        self.buffer_sync: Callable[[nn.Module], None] | None = None  # makes buffers equal across ranks

    def _embed(self, module: nn.Module, batch: Any, node_mask: Tensor | None = None,
               edge_mask: Tensor | None = None) -> Tensor:
        with autocast(self.device, self.cfg.bf16):
            return module(batch, node_mask=node_mask, edge_mask=edge_mask)

    def _difficulty(self, batch: Any, t: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """(per-node difficulty or None, per-graph seen flag or None)."""
        if self.cfg.masking.difficulty_source == "unmasked":
            was_training = self.student.training
            self.student.eval()
            with torch.no_grad():
                s = self._embed(self.student, batch)
                if self.predictor is not None:
                    s = self.predictor(s)
            self.student.train(was_training)
            return node_difficulty(s, t), None
        if self.buffer is None or getattr(batch, "graph_index", None) is None:
            return None, None
        return self.buffer.lookup(batch.graph_index, batch.batch, batch.ptr)

    def choose_mask(self, batch: Any, t: Tensor, step: int, warm: bool) -> Tensor:
        """The student's node mask for this step (random during warm-up or for unseen graphs)."""
        m = self.cfg.masking
        g = int(batch.num_graphs)
        if warm or m.strategy == "random":
            return random_mask(batch.batch, m.ratio, self.gen, g)
        diff, seen = self._difficulty(batch, t)
        mask = make_mask(m.strategy, batch.batch, m.ratio, m.exploit, diff, self.gen, g, m.min_one)
        if seen is not None and not bool(seen.all()):
            rnd = random_mask(batch.batch, m.ratio, self.gen, g)
            mask = torch.where(seen[batch.batch], mask, rnd)
        return mask

    def loss(self, batch: Any, step: int, warm: bool) -> Tensor:
        """The loss of optimiser step ``step`` on ``batch`` (already on ``self.device``); kept in :attr:`last`."""
        o = self.cfg.objective
        self.student_fwd.train()
        self.teacher.train(o.teacher_mode == "train")
        with torch.no_grad():
            t = normalize_target(self._embed(self.teacher, batch), o.target_norm)
        mask = self.choose_mask(batch, t, step, warm)
        # mask_edges: the bonds touching a masked atom too (AttrMasking style)
        edge_mask = mask[batch.edge_index[0]] | mask[batch.edge_index[1]] if self.cfg.masking.mask_edges else None
        z = self._embed(self.student_fwd, batch, node_mask=mask, edge_mask=edge_mask)
        s = z  # the attribute-masking head reads the encoder's own output, not the predictor's
        if self.predictor_fwd is not None:
            with autocast(self.device, self.cfg.bf16):
                s = self.predictor_fwd(z)
        g = int(batch.num_graphs)
        loss, _ = ssl_loss(s.float(), t, batch.batch, o.loss, o.sce_alpha, mask, o.masked_weight, g,
                           loss_nodes=o.loss_nodes)
        loss = o.latent_weight * loss
        if self.recon_fwd is not None and bool(mask.any()):
            # Hu et al. (ICLR 2020) attribute masking: name the element of every masked atom
            logits = self.recon_fwd(z.float()[mask])
            loss = loss + o.recon_weight * F.cross_entropy(logits, batch.x[mask, 0].long())
        if o.graph_weight > 0:
            loss = loss + o.graph_weight * graph_level_loss(s.float(), t, batch.batch, o.loss, o.sce_alpha, g)
        self.last = StepOutput(loss.detach(), g, mask.sum(), t, s, batch, step)
        return loss

    def after_update(self) -> None:
        """After the optimiser step of :attr:`last`: sync buffers, EMA update, store difficulty."""
        assert self.last is not None, "after_update() before loss()"
        o, last, batch = self.cfg.objective, self.last, self.last.batch
        if self.buffer_sync is not None:
            self.buffer_sync(self.student)
        m = momentum_at(last.step, self.total_steps, o.ema_momentum, o.ema_final, o.ema_schedule)
        ema_update(self.teacher, self.student, m, o.copy_buffers)
        if self.buffer is not None and getattr(batch, "graph_index", None) is not None:
            diff = node_difficulty(last.student_out, last.teacher_out)
            self.buffer.update(batch.graph_index, batch.batch, batch.ptr, diff)
