"""Transductive HarmonyGNN pretraining on one graph + linear-probe evaluation (H3GNNs §3.6, §4.1).

Per epoch (one full-batch step, in :func:`harmony_mol.trainer.fit`): mask (random during ``mask_warmup``,
then +Prob/+Diffi from the previous step's per-node difficulty) -> student on the masked input, EMA teacher
on the full input -> loss over all nodes -> Adam step, LR schedule (linear warm-up + cosine) -> EMA update
-> store difficulty. Every ``eval_every`` epochs the student (eval mode, unmasked input) embeds all nodes
and a logistic-regression probe is fitted per split. The pretraining epoch is chosen on **validation**;
the official code's choice (max test accuracy over epochs) is kept as a separate, labelled number.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch_geometric.data import Data

from harmony_mol.benchmark.nodes.config import NodeRunConfig
from harmony_mol.benchmark.nodes.datasets import NodeDataset
from harmony_mol.benchmark.nodes.probe import ProbeResult, linear_probe
from harmony_mol.nn.encoder import HarmonyEncoder
from harmony_mol.nn.encoder_config import HarmonyEncoderConfig
from harmony_mol.nn.inputs import InputDims
from harmony_mol.ssl.diagnostics import effective_rank, masked_unmasked_stats, view_contributions
from harmony_mol.ssl.masking import make_mask, node_difficulty
from harmony_mol.ssl.objective import Predictor, normalize_target, ssl_loss
from harmony_mol.ssl.reconstruction import FeatureDecoder, sce_reconstruction_loss
from harmony_mol.ssl.teacher import ema_update, make_teacher
from harmony_mol.trainer import LoopState, Optim, fit, make_scheduler, resolve_device
from harmony_mol.utils.seed import seed_everything

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitResult:
    """Outcome for one (split, seed): accuracies in [0, 1]."""

    split: int
    seed: int
    epoch_val: int          # pretraining epoch chosen on validation
    val_acc: float          # probe validation accuracy at that epoch
    test_at_val: float      # test accuracy at that epoch (our headline number)
    epoch_test_max: int     # epoch chosen by the official code's rule (max test over epochs)
    test_max: float         # that test accuracy (optimistic; reported separately)
    seconds: float          # wall time of pretraining + probing for this model


def encoder_config(cfg: NodeRunConfig) -> HarmonyEncoderConfig:
    """HarmonyEncoderConfig of the run: the preset plus ``cfg.encoder`` overrides."""
    over = dict(cfg.encoder)
    if "hops" in over:
        over["hops"] = tuple(over["hops"])
    base = HarmonyEncoderConfig.code_faithful if cfg.preset == "code" else HarmonyEncoderConfig.paper_faithful
    return base(**over)


def prepare_features(x: torch.Tensor, kind: str = "none") -> torch.Tensor:
    """Node features as the encoders and probes see them (``NodeRunConfig.feature_norm``).

    ``row``: each row divided by its sum (rows summing to 0 are left at 0), as PyG's
    ``NormalizeFeatures`` does for the Planetoid bag-of-words; ``none``: unchanged.

    Shapes:
        x: ``[N, F]`` -> ``[N, F]`` float32.
    """
    if kind == "none":
        return x.float()
    if kind == "row":
        x = x.float()
        rows = x.sum(1, keepdim=True)
        return x / torch.where(rows == 0, torch.ones_like(rows), rows)
    raise ValueError(f"unknown feature_norm {kind!r}; use none or row")


def graph_record(ds: NodeDataset, feature_norm: str = "none") -> Data:
    """The dataset as the encoder's input record (float features, no categorical columns).

    Shapes:
        x_feat [N, F] float32; edge_index [2, E]; x [N, 0] and edge_attr [E, 0] int64; edge_feat [E, 0].
    """
    n, e = ds.num_nodes, ds.edge_index.shape[1]
    return Data(x=torch.zeros(n, 0, dtype=torch.long), x_feat=prepare_features(ds.x, feature_norm),
                edge_index=ds.edge_index,
                edge_attr=torch.zeros(e, 0, dtype=torch.long), edge_feat=torch.zeros(e, 0), num_nodes=n)


def build_encoder(cfg: NodeRunConfig, data: Data, seed: int, device: torch.device | str = "cpu") -> HarmonyEncoder:
    """The run's HarmonyGNN student, freshly initialised after ``seed_everything(seed)``.

    The SSL run, the random-init floor and the supervised ceiling all start from it.
    """
    seed_everything(seed)
    dims = InputDims(atom_cat_dims=(), atom_float_dim=int(data.x_feat.shape[1]), bond_cat_dims=(),
                     edge_float_dim=0)
    return HarmonyEncoder(encoder_config(cfg), dims, num_edges=int(data.edge_index.shape[1])).to(device)


class _Pretrainer:
    """Student/teacher, optimiser and difficulty state of one run; a step: :meth:`loss`, optim, :meth:`after_update`."""

    def __init__(self, cfg: NodeRunConfig, data: Data, seed: int, device: torch.device) -> None:
        self.cfg = cfg
        self.data = data.to(device)
        self.student = build_encoder(cfg, self.data, seed, device)
        self.teacher = make_teacher(self.student)
        d = self.student.out_dim
        self.predictor = Predictor(d, cfg.predictor_hidden).to(device) if cfg.predictor else None
        self.decoder = FeatureDecoder(d, int(data.x_feat.shape[1])).to(device) if cfg.recon_weight > 0 else None
        params = [p for m in (self.student, self.predictor, self.decoder) if m is not None for p in m.parameters()]
        opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.optim = Optim(opt, params, make_scheduler(opt, cfg.epochs, cfg.warmup, angle_first=True))
        self.gen = torch.Generator().manual_seed(seed + 7919)
        self.batch = torch.zeros(data.num_nodes, dtype=torch.long, device=device)
        self.difficulty: torch.Tensor | None = None
        self.last_stats: dict[str, float] = {}
        self.last_loss = math.nan
        self._out: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # (s, t, mask) of the step

    def loss(self, epoch: int) -> torch.Tensor:
        """The SSL loss of the step of ``epoch`` (counted from 1)."""
        cfg = self.cfg
        self.student.train()
        self.teacher.train(cfg.teacher_mode == "train")
        strategy = "random" if epoch < cfg.mask_warmup else cfg.masking
        t = None
        difficulty = self.difficulty
        if strategy != "random" and cfg.difficulty_source == "unmasked":
            # H3GNNs §3.4 read literally: difficulty of the *current* student on the unmasked graph
            with torch.no_grad():
                t = self.teacher(self.data)
                self.student.eval()
                difficulty = node_difficulty(self.student(self.data), t)
                self.student.train()
        mask = make_mask(strategy, self.batch, cfg.mask_ratio, cfg.exploit, difficulty, self.gen,
                         num_graphs=1)
        z = self.student(self.data, node_mask=mask)
        s = self.predictor(z) if self.predictor is not None else z
        if t is None:
            with torch.no_grad():
                t = self.teacher(self.data)
        t = normalize_target(t, cfg.target_norm)
        loss = cfg.latent_weight * ssl_loss(s, t, None, kind=cfg.loss, mask=mask, masked_weight=cfg.masked_weight,
                                            loss_nodes=cfg.loss_nodes)[0]
        if self.decoder is not None:  # GraphMAE-style anchor on the masked nodes' own features
            recon = self.decoder(z, self.data.edge_index, mask)
            loss = loss + cfg.recon_weight * sce_reconstruction_loss(recon, self.data.x_feat, mask, cfg.recon_alpha)
        self._out = (s, t, mask)
        self.last_loss = float(loss.detach())
        return loss

    def after_update(self) -> None:
        """After the optimiser step: EMA update, masked/unmasked diagnostics, difficulty of the next mask."""
        assert self._out is not None, "after_update() before loss()"
        s, t, mask = self._out
        ema_update(self.teacher, self.student, self.cfg.momentum, copy_buffers=self.cfg.copy_buffers)
        self.last_stats = masked_unmasked_stats(s, t, mask)
        self.difficulty = node_difficulty(s, t)

    @torch.no_grad()
    def embed(self) -> torch.Tensor:
        """Frozen student embeddings (eval mode, unmasked input). Shapes: [N, d]."""
        self.student.eval()
        return self.student(self.data)


def run_splits(cfg: NodeRunConfig, ds: NodeDataset) -> range:
    """The split indices the run uses (the first ``cfg.splits``, or all)."""
    return range(ds.num_splits if cfg.splits == 0 else min(cfg.splits, ds.num_splits))


def split_groups(cfg: NodeRunConfig, ds: NodeDataset) -> list[list[int]]:
    """Splits grouped by label-free model: one per split, or all in one unless ``cfg.pretrain_per_split``."""
    splits = run_splits(cfg, ds)
    return [[s] for s in splits] if cfg.pretrain_per_split else [list(splits)]


def select_epoch(split: int, seed: int, curve: list[tuple[int, float, float]], seconds: float) -> SplitResult:
    """Pick the epoch with the best validation accuracy (earliest on ties) and the code's max-test epoch."""
    best_val = max(curve, key=lambda r: (r[1], -r[0]))
    best_test = max(curve, key=lambda r: (r[2], -r[0]))
    return SplitResult(split, seed, best_val[0], best_val[1], best_val[2], best_test[0], best_test[2], seconds)


def probe_split(cfg: NodeRunConfig, ds: NodeDataset, z: torch.Tensor, y: torch.Tensor,
                masks: tuple[torch.Tensor, ...] | list[torch.Tensor], split: int, seed: int) -> ProbeResult:
    """The run's linear probe on ``z`` for one split (``masks``: the [S, N] train, val and test masks)."""
    return linear_probe(z, y, masks[0][split], masks[1][split], masks[2][split], ds.num_classes, cfg.probe_lr,
                        cfg.probe_weight_decay, cfg.probe_epochs, seed=seed)


def run_dataset(cfg: NodeRunConfig, ds: NodeDataset, device: str | torch.device | None = None
                ) -> tuple[list[SplitResult], list[dict[str, Any]]]:
    """Pretrain + probe on every requested split and seed of ``ds`` (``device`` default: CUDA if available).

    Returns:
        (per-(split, seed) results, loss/accuracy/diagnostics rows of every evaluation, for logging and plots).
    """
    dev = resolve_device(device)
    data = graph_record(ds, cfg.feature_norm)
    y = ds.y.to(dev)
    masks = [m.to(dev) for m in (ds.train_masks, ds.val_masks, ds.test_masks)]
    results: list[SplitResult] = []
    rows: list[dict[str, Any]] = []
    for seed in cfg.seeds:
        for group in split_groups(cfg, ds):
            t0 = time.perf_counter()
            run = _Pretrainer(cfg, data, seed=seed * 1000 + group[0], device=dev)
            curves: dict[int, list[tuple[int, float, float]]] = {s: [] for s in group}

            def evaluate(loop: LoopState) -> None:  # fit() below runs to the end before run/curves change
                epoch, loss = loop.epoch + 1, run.last_loss
                z = run.embed()
                diag = {"eff_rank": effective_rank(z), **run.last_stats,
                        **{f"view_{k}": v for k, v in view_contributions(run.student, run.data).items()}}
                for s in group:
                    pr = probe_split(cfg, ds, z, y, masks, s, seed)
                    curves[s].append((epoch, pr.val_acc, pr.test_acc))
                    rows.append({"dataset": ds.name, "seed": seed, "split": s, "epoch": epoch, "loss": loss,
                                 "val_acc": pr.val_acc, "test_acc": pr.test_acc, "emb_std": float(z.std(0).mean()),
                                 **diag})
                logger.debug("%s seed %d splits %s epoch %d loss %.4f", ds.name, seed, group, epoch, loss)

            fit(lambda _, loop: run.loss(loop.epoch + 1), lambda _: (run.data,), run.optim, cfg.epochs,
                after_step=lambda _b, _l: run.after_update(), evaluate=evaluate, eval_every=cfg.eval_every)
            secs = time.perf_counter() - t0
            for s in group:
                res = select_epoch(s, seed, curves[s], secs / len(group))
                results.append(res)
                logger.info("%s split %d seed %d: val-selected test %.2f (epoch %d, val %.2f); test-max %.2f",
                            ds.name, s, seed, 100 * res.test_at_val, res.epoch_val, 100 * res.val_acc,
                            100 * res.test_max)
    return results, rows


def raw_feature_probe(cfg: NodeRunConfig, ds: NodeDataset) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Reference without pretraining: the same probe on the raw input features, per split (probe seed 0).

    Returns:
        (one row per split with the keys of :data:`~harmony_mol.benchmark.nodes.baselines.ROW_KEYS`, model
        "raw-features", test_max = val_selected_test and epoch = 0 as nothing is trained; {"mean", "std",
        "n"} of the val-selected test accuracy in percent).
    """
    x = prepare_features(ds.x, cfg.feature_norm)
    masks = (ds.train_masks, ds.val_masks, ds.test_masks)
    rows = []
    for s in run_splits(cfg, ds):
        pr = probe_split(cfg, ds, x, ds.y, masks, s, 0)
        rows.append({"dataset": ds.name, "split": s, "seed": 0, "model": "raw-features", "val_acc": pr.val_acc,
                     "val_selected_test": pr.test_acc, "test_max": pr.test_acc, "epoch": 0})
    mean, std = _pct_mean_std([r["val_selected_test"] for r in rows])
    return rows, {"mean": mean, "std": std, "n": len(rows)}


def _pct_mean_std(vals: list[float]) -> tuple[float, float]:
    """Mean and sample std (n-1; 0 for one value) of fractions, in percent."""
    t = torch.tensor(vals, dtype=torch.float64) * 100
    return float(t.mean()), float(t.std()) if t.numel() > 1 else 0.0


def summarize(results: list[SplitResult]) -> dict[str, float]:
    """Mean and sample std in percent, for both epoch-selection rules."""
    m_val, s_val = _pct_mean_std([r.test_at_val for r in results])
    m_max, s_max = _pct_mean_std([r.test_max for r in results])
    return {"test_at_val_mean": m_val, "test_at_val_std": s_val, "test_max_mean": m_max,
            "test_max_std": s_max, "val_mean": _pct_mean_std([r.val_acc for r in results])[0], "n": len(results),
            "seconds": sum(r.seconds for r in results)}
