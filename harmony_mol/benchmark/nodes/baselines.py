"""Reference rows of the node report, on the probe, splits, features and edges of the HarmonyGNN run.

``random-init`` (the floor SSL must clear), ``raw-features`` (the probe on the input features),
``supervised`` (the ceiling) and ``graphmae`` (the positive control, :mod:`harmony_mol.benchmark.nodes.graphmae`):
one row per (split, seed) with the keys of :data:`ROW_KEYS` (accuracies in [0, 1]). Seeds follow
:func:`~harmony_mol.benchmark.nodes.train.run_dataset`: model seed ``seed * 1000 + split`` (``+ 0`` for
label-free models shared by all splits when ``pretrain_per_split`` is false), probe seed ``seed``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from harmony_mol.benchmark.nodes import train
from harmony_mol.benchmark.nodes.config import NodeRunConfig, SupervisedConfig, check_baselines
from harmony_mol.benchmark.nodes.datasets import NodeDataset
from harmony_mol.benchmark.nodes.graphmae import GraphMAE, GraphMAEConfig
from harmony_mol.benchmark.nodes.probe import accuracy
from harmony_mol.benchmark.nodes.train import build_encoder
from harmony_mol.trainer import LoopState, Optim, fit, make_scheduler, resolve_device
from harmony_mol.utils.seed import seed_everything

logger = logging.getLogger(__name__)

#: Keys of every per-(split, seed) row (HarmonyGNN rows are converted to the same keys by the report).
ROW_KEYS: tuple[str, ...] = ("dataset", "split", "seed", "model", "val_acc", "val_selected_test", "test_max",
                             "epoch")


def _row(ds: NodeDataset, split: int, seed: int, model: str, val: float, test: float, test_max: float,
         epoch: int) -> dict[str, Any]:
    return dict(zip(ROW_KEYS, (ds.name, split, seed, model, val, test, test_max, epoch)))


def _on_device(cfg: NodeRunConfig, ds: NodeDataset) -> tuple[torch.device, Data, torch.Tensor, tuple[Tensor, ...]]:
    """(device, the encoder's input record, labels, (train, val, test) masks), all on CUDA if available."""
    dev = resolve_device(None)
    masks = (ds.train_masks.to(dev), ds.val_masks.to(dev), ds.test_masks.to(dev))
    return dev, train.graph_record(ds, cfg.feature_norm).to(dev), ds.y.to(dev), masks


def random_init_rows(cfg: NodeRunConfig, ds: NodeDataset) -> list[dict[str, Any]]:
    """Floor: probe on the untrained HarmonyGNN encoder (eval mode, unmasked input); ``epoch`` is 0."""
    dev, data, y, masks = _on_device(cfg, ds)
    rows = []
    for seed in cfg.seeds:
        for group in train.split_groups(cfg, ds):
            enc = build_encoder(cfg, data, seed * 1000 + group[0], dev)
            enc.eval()
            with torch.no_grad():
                z = enc(data)
            for s in group:
                pr = train.probe_split(cfg, ds, z, y, masks, s, seed)
                rows.append(_row(ds, s, seed, "random-init", pr.val_acc, pr.test_acc, pr.test_acc, 0))
    return rows


def _val_selected_rows(ds: NodeDataset, seed: int, model: str, label: str,
                       curves: dict[int, list[tuple[int, float, float]]]) -> list[dict[str, Any]]:
    """One row per split of ``curves`` (split -> (epoch, val acc, test acc) list), the epoch chosen on val."""
    rows = []
    for s, curve in curves.items():
        res = train.select_epoch(s, seed, curve, 0.0)
        rows.append(_row(ds, s, seed, model, res.val_acc, res.test_at_val, res.test_max, res.epoch_val))
        logger.info("%s split %d seed %d %s: test %.2f at val-selected epoch %d",
                    ds.name, s, seed, label, 100 * res.test_at_val, res.epoch_val)
    return rows


def supervised_rows(cfg: NodeRunConfig, ds: NodeDataset) -> list[dict[str, Any]]:
    """Ceiling: the encoder + ``Linear`` head trained with CE on each split's train mask, epoch chosen on val."""
    scfg = SupervisedConfig(**cfg.supervised)
    p_drop = train.encoder_config(cfg).dropout if scfg.dropout is None else scfg.dropout
    dev, data, y, (tr, va, te) = _on_device(cfg, ds)
    rows = []
    for seed in cfg.seeds:
        for s in train.run_splits(cfg, ds):
            enc = build_encoder(cfg, data, seed * 1000 + s, dev)
            head = nn.Linear(enc.out_dim, ds.num_classes).to(dev)
            params = list(enc.parameters()) + list(head.parameters())
            opt = torch.optim.Adam(params, lr=scfg.lr, weight_decay=scfg.weight_decay)
            curve: list[tuple[int, float, float]] = []

            # fit() runs to the end inside this iteration, so the closures see this split's models and masks
            def loss_fn(_: Data, loop: LoopState) -> torch.Tensor:
                enc.train()
                head.train()
                logits = head(F.dropout(enc(data), p_drop, training=True))
                return F.cross_entropy(logits[tr[s]], y[tr[s]])

            def evaluate(loop: LoopState) -> None:
                enc.eval()
                head.eval()
                with torch.no_grad():
                    pred = head(enc(data)).argmax(1)
                curve.append((loop.epoch + 1, accuracy(pred, y, va[s]), accuracy(pred, y, te[s])))

            fit(loss_fn, lambda _: (data,), Optim(opt, params), scfg.epochs, evaluate=evaluate)
            rows += _val_selected_rows(ds, seed, "supervised", "supervised", {s: curve})
    return rows


def graphmae_rows(cfg: NodeRunConfig, ds: NodeDataset) -> list[dict[str, Any]]:
    """Positive control: GraphMAE pretraining, probe every ``eval_every`` epochs, epoch chosen on val."""
    gcfg = GraphMAEConfig(**cfg.graphmae)
    dev, data, y, masks = _on_device(cfg, ds)
    x, ei = data.x_feat, data.edge_index
    rows = []
    for seed in (cfg.seeds[: gcfg.max_seeds] if gcfg.max_seeds > 0 else cfg.seeds):
        for group in train.split_groups(cfg, ds):
            model_seed = seed * 1000 + group[0]
            seed_everything(model_seed)
            model = GraphMAE(int(x.shape[1]), gcfg).to(dev)
            opt = torch.optim.Adam(model.parameters(), lr=gcfg.lr, weight_decay=gcfg.weight_decay)
            # GraphMAE's per-epoch cosine LR is the shared schedule without warm-up
            sched = make_scheduler(opt, gcfg.epochs, 0, angle_first=True) if gcfg.cosine else None
            gen = torch.Generator().manual_seed(model_seed + 7919)
            curves: dict[int, list[tuple[int, float, float]]] = {s: [] for s in group}
            last: list[torch.Tensor] = []

            def loss_fn(_: None, loop: LoopState) -> torch.Tensor:
                model.train()
                last[:] = [model.loss(x, ei, gen)]
                return last[0]

            def evaluate(loop: LoopState) -> None:
                z = model.embed(x, ei)
                for s in curves:
                    pr = train.probe_split(cfg, ds, z, y, masks, s, seed)
                    curves[s].append((loop.epoch + 1, pr.val_acc, pr.test_acc))
                logger.debug("graphmae epoch %d loss %.4f val %.4f test %.4f (split %d)", loop.epoch + 1,
                             last[0].item(), pr.val_acc, pr.test_acc, s)

            fit(loss_fn, lambda _: (None,), Optim(opt, list(model.parameters()), sched), gcfg.epochs,
                evaluate=evaluate, eval_every=gcfg.eval_every or cfg.eval_every)
            rows += _val_selected_rows(ds, seed, "graphmae", f"graphmae ({gcfg.encoder})", curves)
    return rows


def run_baselines(cfg: NodeRunConfig, ds: NodeDataset, names: tuple[str, ...] | list[str] | None = None
                  ) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """(rows, wall seconds per baseline) of the named baselines (default ``cfg.baselines``; ValueError if unknown)."""
    names = tuple(cfg.baselines if names is None else names)
    check_baselines(names)
    runners = {"random-init": random_init_rows, "raw-features": lambda c, d: train.raw_feature_probe(c, d)[0],
               "supervised": supervised_rows, "graphmae": graphmae_rows}
    rows: list[dict[str, Any]] = []
    seconds: dict[str, float] = {}
    for name in names:
        t0 = time.perf_counter()
        rows += runners[name](cfg, ds)
        seconds[name] = time.perf_counter() - t0
    return rows, seconds
