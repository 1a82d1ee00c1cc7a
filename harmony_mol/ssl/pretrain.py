"""``pretrain(cfg) -> Path``: HarmonyGNN self-supervised pretraining on a featurized dataset.

The loop is resumable exactly: data order is a function of (seed, epoch) only, every mask draw comes
from one saved generator, and a run killed at any point and restarted with ``resume=True`` replays the
same batches and masks from its last checkpoint (:mod:`harmony_mol.ssl.run_state`). Under ``torchrun``
(``WORLD_SIZE`` > 1) each rank trains a DDP student on its shard of :func:`epoch_order`
(:mod:`harmony_mol.ssl.distributed`); rank 0 writes the checkpoints, which hold every rank's mask
generator and RNG state so a resume with the same number of processes is exact.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from harmony_mol.config import dump_config
from harmony_mol.models.io import load_checkpoint, save_checkpoint
from harmony_mol.models.registry import build_encoder
from harmony_mol.nn.inputs import InputDims
from harmony_mol.ssl import distributed as ddp
from harmony_mol.ssl.config import PretrainConfig
from harmony_mol.ssl.curves import plot_curve, write_curve_csv
from harmony_mol.ssl.difficulty import DifficultyBuffer
from harmony_mol.ssl.epoch_data import EpochData, epoch_order
from harmony_mol.ssl.objective import Predictor, collapse_stats
from harmony_mol.ssl.run_state import payload, rank_state, restore
from harmony_mol.ssl.step import SSLStepper
from harmony_mol.ssl.teacher import make_teacher
from harmony_mol.trainer import LoopState, fit, make_scheduler
from harmony_mol.utils.log import progress_enabled
from harmony_mol.utils.seed import seed_everything

logger = logging.getLogger(__name__)

__all__ = ["pretrain", "build_heads"]


def build_heads(cfg: PretrainConfig, student: torch.nn.Module, dims: InputDims,
                device: torch.device) -> tuple[Predictor | None, torch.nn.Linear | None]:
    """The predictor and attribute-masking heads ``cfg.objective`` asks for (None where it asks for none)."""
    o = cfg.objective
    predictor = Predictor(student.out_dim, o.predictor_hidden).to(device) if o.predictor else None
    if o.recon_weight > 0 and not dims.atom_cat_dims:
        raise ValueError("objective.recon_weight needs records with a categorical element column (molecules, "
                         "crystals); these records have none")
    recon_head = torch.nn.Linear(student.out_dim, dims.atom_cat_dims[0]).to(device) if o.recon_weight > 0 else None
    return predictor, recon_head


def _build(cfg: PretrainConfig, data: EpochData, device: torch.device, total_steps: int,
           ctx: ddp.DistContext = ddp.DistContext()) -> SSLStepper:
    dims = InputDims.from_spec_dict(data.spec.to_dict())
    student = build_encoder(cfg.encoder, dims).to(device)
    teacher = make_teacher(student)
    predictor, recon_head = build_heads(cfg, student, dims, device)
    params = [p for mod in (student, predictor, recon_head) if mod is not None for p in mod.parameters()]
    opt = torch.optim.AdamW(params, lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay,
                            betas=tuple(cfg.optim.betas))
    sched = make_scheduler(opt, total_steps, cfg.optim.warmup_steps, cfg.optim.min_lr_factor)
    m = cfg.masking
    use_buffer = m.strategy != "random" and m.difficulty_source in ("buffer", "code")
    buffer = DifficultyBuffer(data.node_ptr, device) if use_buffer else None
    gen = torch.Generator().manual_seed(cfg.seed + 12345 + 1_000_003 * ctx.rank)  # own mask stream per rank
    st = SSLStepper(cfg, student, teacher, predictor, opt, sched, device, total_steps, buffer, gen, recon_head)
    if ctx.enabled:  # gradients averaged over ranks; buffers made equal before each EMA update
        find = cfg.distributed.find_unused_parameters
        st.student_fwd = ddp.wrap_ddp(student, find)
        st.predictor_fwd = ddp.wrap_ddp(predictor, find) if predictor is not None else None
        st.recon_fwd = ddp.wrap_ddp(recon_head, find) if recon_head is not None else None
        if any(b.is_floating_point() for b in student.buffers()):
            st.buffer_sync = ddp.sync_buffers
        if buffer is not None:
            buffer.track_updates()
        seed_everything(cfg.seed + 7919 * (ctx.rank + 1), cfg.deterministic)  # own dropout stream per rank
    return st


def pretrain(cfg: PretrainConfig, resume: bool = False) -> Path:
    """Pretrain an encoder; return the path of the final ``encoder.pt`` (what ``finetune`` and ``embed`` load).

    Under ``torchrun`` every rank calls this with the same config; rank 0 writes the files and every
    rank returns the same path. A process group created by the caller is used and left open.

    Args:
        cfg: Run configuration.
        resume: Continue from ``<out_dir>/last.pt`` if it exists (exactly: same batches, masks).

    Raises:
        ValueError: empty dataset path, a resume with an incompatible config or process count, or a
            bad ``torchrun`` environment.
    """
    seed_everything(cfg.seed, cfg.deterministic)
    ctx, device = ddp.setup(cfg.distributed.backend, cfg.device, cfg.distributed.timeout_s)
    ok = False
    try:
        path = _run(cfg, resume, ctx, device)
        ok = True
        return path
    finally:
        ddp.teardown(ctx, ok)


def _run(cfg: PretrainConfig, resume: bool, ctx: ddp.DistContext, device: torch.device) -> Path:
    out = Path(cfg.out_dir)
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
    data = EpochData(cfg, device)
    bs, world = cfg.batch_size, ctx.world_size
    steps_per_epoch = math.ceil(math.ceil(data.n / world) / bs)
    total = cfg.max_steps if cfg.max_steps > 0 else cfg.epochs * steps_per_epoch
    n_epochs = math.ceil(total / steps_per_epoch)
    st = _build(cfg, data, device, total, ctx)
    st_loop, history = LoopState(), []
    saved_win = [0.0, 0.0, 0.0, 0.0, 0.0]
    last = out / "last.pt"
    if resume and last.is_file():
        step, epoch, b0, history, saved_win = restore(load_checkpoint(last, device), cfg, data, st, ctx)
        st_loop = LoopState(step=step, epoch=epoch, batch=b0)
        if ctx.is_main:
            logger.info("resuming from %s at step %d (epoch %d, batch %d)", last, step, epoch, b0)
    elif resume and ctx.is_main:
        logger.info("no %s yet: starting a fresh run", last)
    if ctx.is_main:
        dump_config(cfg, out / "config.yaml")
        logger.info("pretraining %d graphs, %d steps (%d/epoch), batch %d x %d rank(s), %s, encoder %.2fM params",
                    data.n, total, steps_per_epoch, bs, world, device,
                    sum(p.numel() for p in st.student.parameters()) / 1e6)
    warm_until = max(cfg.masking.warmup_steps, int(cfg.masking.warmup_epochs * steps_per_epoch))
    bar = tqdm(total=total, initial=st_loop.step, disable=not (ctx.is_main and progress_enabled(cfg.progress)),
               desc="pretrain", unit="step", dynamic_ncols=True)
    # log window: loss sum and masked nodes (0-d tensors, no host sync until the log row), nodes, graphs, steps
    win = [torch.tensor(saved_win[0]), torch.tensor(saved_win[1]), *(int(v) for v in saved_win[2:])]
    t_graphs, t0 = 0, time.perf_counter()

    def save(*paths: Path) -> None:
        # collective under torchrun (same call sites on every rank): merge difficulty, gather rank states
        ranks = None
        if ctx.enabled:
            if st.buffer is not None:
                ddp.merge_difficulty(st.buffer)
            ranks = ddp.gather_objects(rank_state(st, win))
        if ctx.is_main:
            ckpt = payload(cfg, data, st, st_loop.step, st_loop.epoch, st_loop.batch, history, win, ranks)
            for path in paths:
                save_checkpoint(path, ckpt)

    def checkpoint(loop: LoopState) -> None:
        save(last)
        if ctx.is_main and loop.batch:  # mid-epoch checkpoints also refresh the curve
            write_curve_csv(history, out / "loss.csv")

    def after_step(batch: Any, loop: LoopState) -> None:
        nonlocal t_graphs, t0
        st.after_update()
        out_step = st.last
        win[0] = win[0] + out_step.loss
        win[1] = win[1] + out_step.num_masked
        win[2] += int(batch.batch.numel())
        win[3] += out_step.num_graphs
        win[4] += 1
        t_graphs += out_step.num_graphs
        step = loop.step
        if step % cfg.log_every == 0 or step == total:
            dt = max(time.perf_counter() - t0, 1e-9)
            stats = collapse_stats(out_step.teacher_out)
            loss_sum, masked, nodes, graphs = float(win[0]), float(win[1]), win[2], t_graphs
            if ctx.enabled:  # mean over ranks of the per-step losses; totals over ranks
                loss_sum, masked, nodes, graphs = ddp.all_reduce_sum([win[0], win[1], nodes, graphs], device)
                loss_sum /= world
            row = [step, loop.epoch, loss_sum / win[4], st.optim.scheduler.get_last_lr()[0], stats["teacher_std"],
                   stats["teacher_rank"], masked / max(nodes, 1), graphs / dt]
            history.append(row)
            bar.set_postfix(loss=f"{row[2]:.4g}", gps=f"{row[7]:.0f}", std=f"{row[4]:.3f}")
            logger.debug("step %d loss %.5g lr %.3g std %.4f", step, row[2], row[3], row[4])
            win[:] = [torch.zeros(()), torch.zeros(()), 0, 0, 0]
            t_graphs, t0 = 0, time.perf_counter()
        bar.update(1)

    def batches(loop: LoopState) -> Iterable[Any]:
        order = ddp.shard_order(epoch_order(data.n, cfg.seed, loop.epoch), ctx.rank, world)
        return data.batches(order[loop.batch * bs:])

    fit(lambda batch, loop: st.loss(batch, loop.step, warm=loop.step < warm_until), batches, st.optim,
        epochs=n_epochs, max_steps=total, state=st_loop, after_step=after_step, checkpoint=checkpoint,
        checkpoint_every=cfg.checkpoint_every)
    bar.close()
    final = out / "encoder.pt"
    save(last, final)
    if ctx.is_main:
        write_curve_csv(history, out / "loss.csv")
        plot_curve(history, out / "loss.png")
        if history:
            logger.info("done: %d steps, loss %.5g -> %.5g; wrote %s", st_loop.step, history[0][2], history[-1][2],
                        final)
    return final
