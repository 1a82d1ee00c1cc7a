"""``PretrainConfig``: everything ``harmony pretrain`` reads from ``configs/pretrain/*.yaml``.

Defaults follow the teacher-student objective of H3GNNs (ICLR 2026, §3) adapted to batches of graphs:
L2 loss over all nodes averaged per graph, EMA teacher in eval mode with BatchNorm buffers copied, no
predictor, +Prob masking with R = 0.25 and r = 0.5 driven by a per-atom difficulty buffer. The official
code's behaviours are switches.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from harmony_mol.nn.encoder_config import EncoderConfig, HarmonyEncoderConfig

__all__ = ["MaskingConfig", "ObjectiveConfig", "OptimConfig", "DistributedConfig", "PretrainConfig"]


@dataclass(frozen=True)
class MaskingConfig:
    """Which nodes the student does not see.

    Args:
        strategy: ``random``, ``diffi`` (code ``mix``: hardest ``floor(n R r)`` + random) or ``prob``.
        ratio: Mask ratio ``R`` per graph (count ``max(1, round(R n))``, never all nodes).
        exploit: Exploitation rate ``r`` (share of the mask driven by difficulty).
        difficulty_source: ``buffer`` (per-atom store from the last masked step a graph was seen in),
            ``unmasked`` (an extra no-grad unmasked student pass each step) or ``code`` (previous masked
            step; identical to ``buffer`` for batched graphs).
        warmup_steps: Random masking for the first steps ...
        warmup_epochs: ... or epochs (the larger of the two wins). Unseen graphs are random anyway.
        min_one: ``prob``: every graph with >= 2 nodes gets at least one masked node.
        mask_edges: Also hide the bonds of every masked atom behind a learnable edge mask token (Hu et al.
            AttrMasking style; turns on ``encoder.edge_mask_token``).
    """

    strategy: Literal["random", "diffi", "prob"] = "prob"
    ratio: float = 0.25
    exploit: float = 0.5
    difficulty_source: Literal["buffer", "unmasked", "code"] = "buffer"
    warmup_steps: int = 0
    warmup_epochs: float = 0.0
    min_one: bool = True
    mask_edges: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < self.ratio < 1.0:
            raise ValueError(f"masking.ratio must be in (0, 1), got {self.ratio}")
        if not 0.0 <= self.exploit <= 1.0:
            raise ValueError(f"masking.exploit must be in [0, 1], got {self.exploit}")


@dataclass(frozen=True)
class ObjectiveConfig:
    """Loss, teacher and optional predictor.

    Args:
        loss: ``l2`` (paper), ``mse`` (code; l2 / d), ``sce`` (GraphMAE) or ``byol``.
        sce_alpha: Exponent of ``sce``.
        masked_weight: Weight of masked nodes relative to unmasked ones (1 = paper).
        loss_nodes: ``all`` (paper: every node) or ``masked`` (masked nodes only; the unmasked nodes see
            the teacher's own input, so their term can be solved by copying it).
        target_norm: Normalise the teacher's output: ``none`` (paper), ``layer`` or ``batch``.
        predictor: Add a small MLP on the student output (off: the method has none).
        predictor_hidden: Hidden width of that MLP.
        ema_momentum: EMA momentum (constant) or the start of the cosine ramp.
        ema_final: End of the cosine ramp.
        ema_schedule: ``constant`` (code) or ``cosine``.
        copy_buffers: Copy BatchNorm buffers to the teacher after each update (code: no).
        teacher_mode: ``eval`` (no dropout, running BN stats) or ``train`` (code).
        latent_weight: Weight of the teacher-student term (1 = the method; 0 with ``recon_weight`` > 0 = attribute
            masking alone, the positive control).
        recon_weight: Weight of an added attribute-masking term (Hu et al., ICLR 2020): a linear head on the
            student's output names the element (first categorical atom column) of every masked atom, with
            cross-entropy (0 = off, as in the paper).
        graph_weight: Weight of the graph-level JEPA term (not in H3GNNs): each graph's mean-pooled student
            embedding regressed on the teacher's with the same loss (0 = off, as in the paper).
    """

    loss: Literal["l2", "mse", "sce", "byol"] = "l2"
    sce_alpha: float = 2.0
    masked_weight: float = 1.0
    loss_nodes: Literal["all", "masked"] = "all"
    target_norm: Literal["none", "layer", "batch"] = "none"
    predictor: bool = False
    predictor_hidden: int = 512
    ema_momentum: float = 0.99
    ema_final: float = 0.999
    ema_schedule: Literal["constant", "cosine"] = "constant"
    copy_buffers: bool = True
    teacher_mode: Literal["eval", "train"] = "eval"
    graph_weight: float = 0.0
    recon_weight: float = 0.0
    latent_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.latent_weight < 0 or (self.latent_weight == 0 and self.recon_weight == 0):
            raise ValueError("objective.latent_weight must be >= 0, and > 0 unless recon_weight > 0")
        if self.recon_weight < 0:
            raise ValueError(f"objective.recon_weight must be >= 0, got {self.recon_weight}")
        if self.graph_weight < 0:
            raise ValueError(f"objective.graph_weight must be >= 0, got {self.graph_weight}")


@dataclass(frozen=True)
class OptimConfig:
    """AdamW with linear warm-up and cosine decay (per step), plus gradient clipping."""

    lr: float = 5e-4
    weight_decay: float = 1e-2
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 100
    min_lr_factor: float = 0.0
    grad_clip: float = 1.0


@dataclass(frozen=True)
class DistributedConfig:
    """Data-parallel training under ``torchrun`` (ignored when ``WORLD_SIZE`` is unset or 1).

    Args:
        backend: ``auto`` (``nccl`` on CUDA, ``gloo`` on CPU), ``nccl`` or ``gloo``.
        find_unused_parameters: DDP option for encoders with parameters that some steps do not use.
        timeout_s: Collective timeout (a rank that died makes the others fail after this long).
    """

    backend: Literal["auto", "nccl", "gloo"] = "auto"
    find_unused_parameters: bool = False
    timeout_s: int = 1800

    def __post_init__(self) -> None:
        if self.timeout_s < 1:
            raise ValueError(f"distributed.timeout_s must be >= 1, got {self.timeout_s}")


@dataclass(frozen=True)
class PretrainConfig:
    """One pretraining run.

    Args:
        dataset: Featurized dataset directory (``harmony featurize`` output).
        out_dir: Run directory (``last.pt``, ``encoder.pt``, ``loss.csv``, ``loss.png``, ``config.yaml``).
        encoder: The student / teacher encoder: HarmonyGNN, or ``arch: gin`` for the attribute-masking positive
            control (Hu et al. 2020: ``objective.latent_weight: 0``, ``objective.recon_weight: 1``).
        max_graphs: Use only the first N graphs (0 = all); for quick runs.
        batch_size / epochs / max_steps: ``max_steps`` > 0 overrides ``epochs``. Under ``torchrun``
            ``batch_size`` is per rank (global batch = ``batch_size * WORLD_SIZE``) and an epoch is
            ``ceil(n / (batch_size * WORLD_SIZE))`` steps.
        seed / deterministic: Seeding (data order, masks, init) and deterministic kernels.
        device: ``auto`` (CUDA if present), ``cpu``, ``cuda``, ``cuda:1`` ...
        bf16: bf16 autocast on CUDA (ignored on CPU).
        loader: ``fast`` (pre-collated FastGraphLoader, on-device batching) or ``pyg`` (DataLoader).
        num_workers: Worker processes of the ``pyg`` loader.
        checkpoint_every: Write ``last.pt`` every N optimiser steps (and at each epoch end).
        log_every: Loss-curve row every N steps.
        progress: tqdm bar (None = when stderr is a terminal).
        distributed: ``torchrun`` data-parallel options (:class:`DistributedConfig`).
    """

    dataset: str = ""
    out_dir: Path = Path("runs/pretrain")
    encoder: EncoderConfig = field(default_factory=HarmonyEncoderConfig)
    masking: MaskingConfig = field(default_factory=MaskingConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    max_graphs: int = 0
    batch_size: int = 256
    epochs: int = 10
    max_steps: int = 0
    seed: int = 0
    deterministic: bool = False
    device: str = "auto"
    bf16: bool = True
    loader: Literal["fast", "pyg"] = "fast"
    num_workers: int = 0
    checkpoint_every: int = 500
    log_every: int = 20
    progress: bool | None = None
    distributed: DistributedConfig = field(default_factory=DistributedConfig)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.epochs < 1 and self.max_steps < 1:
            raise ValueError("set epochs >= 1 or max_steps >= 1")
        if self.checkpoint_every < 1 or self.log_every < 1:
            raise ValueError("checkpoint_every and log_every must be >= 1")
        if self.encoder.arch == "cgcnn":
            raise ValueError("encoder.arch cgcnn takes no node mask; pretrain harmony or gin")
        enc = self.encoder
        if self.masking.mask_edges and isinstance(enc, HarmonyEncoderConfig) and not enc.edge_mask_token:
            object.__setattr__(self, "encoder", replace(self.encoder, edge_mask_token=True))
