"""Configuration of a node-classification reproduction run (``configs/nodes/<dataset>.yaml``).

Every place where the H3GNNs paper (ICLR 2026) and its official code disagree is a switch: the encoder
preset and ``encoder`` overrides of :class:`~harmony_mol.nn.encoder_config.HarmonyEncoderConfig`, and the
fields of :class:`NodeRunConfig` that name what the code does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

#: Reference rows the node report can show beside HarmonyGNN (``harmony_mol.benchmark.nodes.baselines``).
BASELINES: tuple[str, ...] = ("random-init", "raw-features", "supervised", "graphmae")


@dataclass(frozen=True)
class SupervisedConfig:
    """End-to-end supervised training of the HarmonyGNN encoder + a linear head (``NodeRunConfig.supervised``).

    Args:
        lr, weight_decay, epochs: Adam settings, one full-batch step per epoch (GCN defaults: 0.01, 5e-4, 200).
        dropout: Dropout on the embeddings before the head (the encoder's own dropout applies inside);
            ``None`` = the encoder config's ``dropout``.
    """

    lr: float = 0.01
    weight_decay: float = 5e-4
    epochs: int = 200
    dropout: float | None = None

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.lr <= 0 or self.weight_decay < 0:
            raise ValueError("supervised epochs must be >= 1, lr > 0 and weight_decay >= 0")
        if self.dropout is not None and not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"supervised dropout must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class NodeRunConfig:
    """One dataset's SSL pretraining + linear-probe protocol.

    Args:
        dataset: a name from :data:`harmony_mol.benchmark.nodes.datasets.DATASETS`.
        to_undirected: symmetrise the directed WebKB/Actor graphs (code: ``False``).
        preset: encoder base, ``"code"`` (:meth:`HarmonyEncoderConfig.code_faithful`) or ``"paper"``.
        encoder: overrides of HarmonyEncoderConfig fields on top of the preset (``hidden_dim``, ``hops``, ...).
        masking: ``"prob"`` (+Prob), ``"diffi"`` (+Diffi) or ``"random"``.
        mask_ratio: R. exploit: r (exploitation share). mask_warmup: epochs of random masking first.
        difficulty_source: ``previous`` (the official code: the masked student's error of the previous
            step) or ``unmasked`` (an extra no-grad pass of the current student on the unmasked graph).
        momentum: constant EMA momentum of the teacher.
        teacher_mode: ``"train"`` (code: dropout + batch statistics) or ``"eval"``.
        copy_buffers: copy BatchNorm buffers student -> teacher after each EMA step (code: False).
        loss: ``"l2"`` (paper), ``"mse"``, ``"sce"``, ``"byol"``.
        loss_nodes: ``"all"`` (paper) or ``"masked"``: which nodes the loss averages over
            (same name and meaning as ``objective.loss_nodes`` of ``harmony pretrain``).
        masked_weight: weight of masked relative to unmasked nodes when ``loss_nodes="all"`` (1 = paper).
        target_norm: ``"none"`` (paper), ``"layer"`` (data2vec-style per-node standardisation of the
            teacher's output) or ``"batch"`` (per-feature standardisation over the nodes).
        predictor: a small MLP on the student's output before the loss (BYOL/BGRL; the method has none).
        predictor_hidden: its hidden width.
        latent_weight: weight of the teacher-student latent loss (1 = the method; 0 with ``recon_weight`` > 0
            leaves reconstruction alone, an ablation).
        recon_weight: weight of an added GraphMAE-style term that rebuilds the masked nodes' input features
            from the student's embedding (:mod:`harmony_mol.ssl.reconstruction`; 0 = off, the method).
        recon_alpha: exponent of its scaled cosine error.
        feature_norm: ``"none"`` (official code) or ``"row"``: divide every node's features by their sum
            (row-normalised bag-of-words, what PyG's ``NormalizeFeatures`` and the SSL baselines use).
        lr, weight_decay, epochs, warmup: Adam + linear warm-up + cosine, one full-batch step per epoch.
        eval_every: probe every this many epochs (and at the last epoch).
        probe_lr, probe_weight_decay, probe_epochs: the logistic-regression probe.
        splits: how many of the predefined splits to run (``0`` = all).
        seeds: pretraining seeds per split (Planetoid has one public split: use several seeds).
        pretrain_per_split: ``True`` = a fresh model per split (code); ``False`` = one pretraining per
            seed shared by all splits (labels are never used in pretraining; S times cheaper).
        baselines: reference rows run beside HarmonyGNN on the same probe and splits (names in
            :data:`BASELINES`; see :mod:`harmony_mol.benchmark.nodes.baselines`).
        graphmae: overrides of :class:`~harmony_mol.benchmark.nodes.graphmae.GraphMAEConfig` (``epochs``, ...).
        supervised: overrides of :class:`SupervisedConfig` (``lr``, ``epochs``, ...).
    """

    dataset: str
    to_undirected: bool = False
    preset: Literal["code", "paper"] = "code"
    encoder: dict[str, Any] = field(default_factory=dict)
    masking: Literal["prob", "diffi", "random"] = "prob"
    mask_ratio: float = 0.5
    exploit: float = 0.5
    mask_warmup: int = 50
    difficulty_source: Literal["previous", "unmasked"] = "previous"
    momentum: float = 0.99
    teacher_mode: Literal["train", "eval"] = "eval"
    copy_buffers: bool = True
    loss: Literal["l2", "mse", "sce", "byol"] = "l2"
    loss_nodes: Literal["all", "masked"] = "all"
    masked_weight: float = 1.0
    target_norm: Literal["none", "layer", "batch"] = "none"
    predictor: bool = False
    predictor_hidden: int = 512
    latent_weight: float = 1.0
    recon_weight: float = 0.0
    recon_alpha: float = 3.0
    feature_norm: Literal["none", "row"] = "none"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    epochs: int = 300
    warmup: int = 30
    eval_every: int = 10
    probe_lr: float = 0.01
    probe_weight_decay: float = 1e-4
    probe_epochs: int = 300
    splits: int = 0
    seeds: tuple[int, ...] = (0,)
    pretrain_per_split: bool = True
    baselines: tuple[str, ...] = BASELINES
    graphmae: dict[str, Any] = field(default_factory=dict)
    supervised: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 < self.mask_ratio < 1.0:
            raise ValueError(f"mask_ratio must be in (0, 1), got {self.mask_ratio}")
        if not 0.0 <= self.exploit <= 1.0:
            raise ValueError(f"exploit must be in [0, 1], got {self.exploit}")
        if self.epochs < 1 or self.eval_every < 1 or self.probe_epochs < 1:
            raise ValueError("epochs, eval_every and probe_epochs must be >= 1")
        if self.mask_warmup < 1 or self.warmup < 0:
            raise ValueError("mask_warmup must be >= 1 and warmup >= 0")
        if not 0.0 <= self.momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {self.momentum}")
        if not self.seeds:
            raise ValueError("seeds must list at least one seed")
        if self.recon_weight < 0 or self.recon_alpha <= 0 or self.latent_weight < 0:
            raise ValueError("recon_weight and latent_weight must be >= 0 and recon_alpha > 0")
        if self.recon_weight == 0 and self.latent_weight == 0:
            raise ValueError("latent_weight and recon_weight are both 0: nothing to train")
        if self.masked_weight <= 0 or self.predictor_hidden < 1:
            raise ValueError("masked_weight must be > 0 and predictor_hidden >= 1")
        if self.splits < 0:
            raise ValueError(f"splits must be >= 0, got {self.splits}")
        check_baselines(self.baselines)
        # a bad graphmae/supervised override fails at load time, not after the SSL run
        from harmony_mol.benchmark.nodes.graphmae import GraphMAEConfig
        from harmony_mol.config import config_from_dict

        config_from_dict(GraphMAEConfig, self.graphmae, where="graphmae")
        config_from_dict(SupervisedConfig, self.supervised, where="supervised")


def check_baselines(names: tuple[str, ...] | list[str]) -> None:
    """Raise ``ValueError`` naming every entry of ``names`` that is not in :data:`BASELINES`."""
    unknown = sorted(set(names) - set(BASELINES))
    if unknown:
        raise ValueError(f"unknown baseline(s) {', '.join(unknown)}; valid: {', '.join(BASELINES)}")
