"""Data-parallel pretraining under ``torchrun``: process group, data sharding and the few collectives.

With ``WORLD_SIZE`` unset or 1 no process group is created and every helper is a no-op. With several
processes each rank trains a ``DistributedDataParallel`` student on its ``DistributedSampler``-style
shard of the epoch order; the EMA teacher follows the synchronised student weights and so stays
identical on every rank without communication. Only rank 0 writes files.

    torchrun --standalone --nproc_per_node=2 $(which harmony) pretrain --config configs/pretrain/zinc.yaml
"""

from __future__ import annotations

import datetime
import inspect
import logging
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from harmony_mol.ssl.difficulty import DifficultyBuffer
from harmony_mol.trainer import resolve_device

logger = logging.getLogger(__name__)

__all__ = ["DistContext", "world_from_env", "setup", "teardown", "shard_order", "wrap_ddp", "sync_buffers",
           "all_reduce_sum", "gather_objects", "merge_difficulty"]


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in the run.

    Args:
        rank / world_size: From the ``torchrun`` environment (0 / 1 when unset).
        owns_group: This module created the process group (and so destroys it at the end).
    """

    rank: int = 0
    world_size: int = 1
    owns_group: bool = False

    @property
    def enabled(self) -> bool:
        """True when several processes train together."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on rank 0 (the one that writes checkpoints, curves and logs progress)."""
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw.strip() else default
    except ValueError as exc:
        raise ValueError(f"environment variable {name}={raw!r} is not an integer") from exc


def world_from_env() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from ``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK`` (``(0, 1, 0)`` if unset).

    Raises:
        ValueError: inconsistent values (rank outside the world, world size < 1).
    """
    world = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local = _env_int("LOCAL_RANK", rank)
    if world < 1 or not 0 <= rank < world or local < 0:
        raise ValueError(f"bad torchrun environment: RANK={rank} WORLD_SIZE={world} LOCAL_RANK={local}")
    return rank, world, local


def setup(backend: str = "auto", device: str = "auto", timeout_s: int = 1800) -> tuple[DistContext, torch.device]:
    """Join the ``torchrun`` process group (if there is one) and pick this rank's device.

    On CUDA, ``auto`` / ``cuda`` map to ``cuda:LOCAL_RANK``. A process group that already exists
    (created by the caller) is used as is and left alone by :func:`teardown`.

    Raises:
        ValueError: bad environment, an unknown backend, or a group whose size differs from ``WORLD_SIZE``.
    """
    rank, world, local = world_from_env()
    dev = resolve_device(device)
    if world == 1:
        return DistContext(), dev
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", local)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if backend == "auto":
        backend = "nccl" if dev.type == "cuda" else "gloo"
    elif backend == "nccl" and dev.type != "cuda":
        raise ValueError("distributed.backend=nccl needs CUDA devices; use gloo (or auto) for CPU training")
    owns = not dist.is_initialized()
    if owns:
        dist.init_process_group(backend, rank=rank, world_size=world, timeout=datetime.timedelta(seconds=timeout_s))
    elif dist.get_world_size() != world or dist.get_rank() != rank:
        raise ValueError(f"existing process group (rank {dist.get_rank()} of {dist.get_world_size()}) "
                         f"does not match RANK={rank} WORLD_SIZE={world}")
    ctx = DistContext(rank=rank, world_size=world, owns_group=owns)
    logger.info("distributed: rank %d of %d (local %d), backend %s, device %s", rank, world, local,
                dist.get_backend(), dev)
    return ctx, dev


def teardown(ctx: DistContext, ok: bool = True) -> None:
    """Wait for every rank (only after a successful run) and destroy the group if :func:`setup` made it."""
    if not ctx.enabled or not dist.is_initialized():
        return
    if ok:
        dist.barrier()
    if ctx.owns_group:
        dist.destroy_process_group()


def shard_order(order: Tensor, rank: int, world_size: int) -> Tensor:
    """This rank's share of an epoch order as ``DistributedSampler(drop_last=False)`` takes it.

    The order is padded with its own head, so every rank gets ``ceil(n / W)`` indices (as many steps).

    Shapes:
        order: ``[n]`` -> ``[ceil(n / world_size)]``.
    """
    from torch.utils.data import DistributedSampler

    if world_size <= 1:
        return order
    # the sampler only needs len() (and checks the rank); shuffle=False keeps our own seeded epoch order
    positions = DistributedSampler(range(order.numel()), num_replicas=world_size, rank=rank, shuffle=False)
    return order[torch.as_tensor(list(positions), dtype=torch.long)]


def wrap_ddp(module: nn.Module, find_unused_parameters: bool = False) -> nn.Module:
    """``DistributedDataParallel`` around a module on its device; buffers are left to :func:`sync_buffers`."""
    ddp_cls = nn.parallel.DistributedDataParallel
    # torch >= 2.13 renamed the switch (the old name warns); buffers are equal at init either way
    no_sync = ({"forward_sync_buffers": False} if "forward_sync_buffers" in inspect.signature(ddp_cls).parameters
               else {"broadcast_buffers": False})
    return ddp_cls(module, device_ids=None, find_unused_parameters=find_unused_parameters, **no_sync)


@torch.no_grad()
def sync_buffers(module: nn.Module) -> None:
    """Average floating-point buffers (BatchNorm running statistics) over ranks; others are equal anyway."""
    bufs = [b for b in module.buffers() if b.is_floating_point()]
    if not bufs or not dist.is_initialized():
        return
    flat = torch.cat([b.detach().float().reshape(-1) for b in bufs])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    for b, part in zip(bufs, flat.split([b.numel() for b in bufs])):
        b.copy_(part.view_as(b))


def all_reduce_sum(values: list[float | Tensor], device: torch.device) -> list[float]:
    """Sum a few scalars over ranks (one collective); returns Python floats."""
    t = torch.stack([torch.as_tensor(v, dtype=torch.float64, device=device).reshape(()) for v in values])
    if dist.is_initialized():
        dist.all_reduce(t)
    return [float(v) for v in t.cpu()]


def gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj`` (picklable), in rank order; ``[obj]`` without a process group."""
    if not dist.is_initialized():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


@torch.no_grad()
def merge_difficulty(buffer: DifficultyBuffer) -> None:
    """Make the per-atom difficulty store identical on every rank (before each checkpoint).

    Each rank has written only the atoms of its own shard since the last merge (``buffer.touched``);
    their values win, averaged where two ranks wrote the same graph (padding).
    """
    if buffer.touched is None or not dist.is_initialized():
        return
    hit = buffer.touched
    stacked = torch.stack([torch.where(hit, torch.nan_to_num(buffer.values.float(), nan=0.0), 0.0), hit.float()])
    dist.all_reduce(stacked)
    got = stacked[1] > 0
    merged = (stacked[0] / stacked[1].clamp(min=1.0)).to(torch.float16)
    buffer.values = torch.where(got, merged, buffer.values)
    buffer.touched.zero_()
