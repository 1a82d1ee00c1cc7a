"""``finetune(cfg) -> FinetuneResult``: train graph-level property models, one per seed, into one bundle."""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harmony_mol.config import config_to_dict, dump_config
from harmony_mol.finetune import outputs
from harmony_mol.finetune.config import FinetuneConfig, encoder_lr_mult
from harmony_mol.finetune.data import make_split, resolve_dataset, select_targets
from harmony_mol.finetune.evaluate import split_metrics
from harmony_mol.finetune.loss import infer_task_type, masked_bce_with_logits, masked_regression_loss, positive_weights
from harmony_mol.finetune.metrics import HIGHER_IS_BETTER, headline
from harmony_mol.models.io import ModelBundle, load_checkpoint, load_encoder, save_bundle
from harmony_mol.models.property_model import PropertyModel, build_model
from harmony_mol.models.registry import build_encoder
from harmony_mol.models.scaler import TargetScaler
from harmony_mol.nn.inputs import InputDims
from harmony_mol.trainer import LoopState, Optim, fit, resolve_device
from harmony_mol.utils.io import atomic_write_json
from harmony_mol.utils.seed import seed_everything

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinetuneResult:
    """What :func:`finetune` produced.

    Attributes:
        bundle_path: The model bundle (all seeds as ensemble members).
        metrics: ``{"per_seed": {seed: {split: metrics}}, "summary": {split: {metric: {mean, std}}}, ...}``.
        seeds / wall_s: The replicate seeds; wall-clock seconds of the whole call.
        out_dir: Run directory (``metrics.json``, ``plots/``, ``config.yaml``).
    """

    bundle_path: Path
    metrics: dict[str, Any]
    seeds: tuple[int, ...]
    wall_s: float
    out_dir: Path


def _make_encoder(cfg: FinetuneConfig, spec: dict[str, Any]) -> tuple[torch.nn.Module, dict[str, Any], dict[str, Any]]:
    """(encoder, encoder_config dict, input_dims dict) from the checkpoint or from scratch."""
    if cfg.model.pretrained is not None:
        enc, meta = load_encoder(cfg.model.pretrained, which=cfg.model.which)
        return enc, dict(meta["encoder_config"]), dict(meta["input_dims"])
    dims = InputDims.from_spec_dict(spec)
    return build_encoder(cfg.model.encoder, dims), config_to_dict(cfg.model.encoder), dims.to_dict()


def _param_groups(model: PropertyModel, lr: float, mult: float, wd: float) -> list[dict[str, Any]]:
    """AdamW groups: read-out and head at ``lr``, the encoder at ``lr * mult`` (left out when ``mult`` is 0)."""
    rest = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    groups = [{"params": rest, "lr": lr, "weight_decay": wd}]
    if mult > 0:
        groups.append({"params": list(model.encoder.parameters()), "lr": lr * mult, "weight_decay": wd})
    return groups


def _train_one(
    cfg: FinetuneConfig, seed: int, ds: Any, tensors: dict[str, torch.Tensor], tasks: list[int], task_type: str,
    target_names: list[str], metric: str, device: torch.device,
) -> tuple[PropertyModel, TargetScaler, dict[str, list[int]], list[dict[str, float]], dict[str, Any], dict]:
    from tqdm.auto import tqdm

    from harmony_mol.data.loaders import FastGraphLoader
    from harmony_mol.utils.log import progress_enabled

    o = cfg.optim
    seed_everything(seed, deterministic=cfg.deterministic)
    split = make_split(cfg.split, ds, seed)
    y_train = tensors["y"][:, tasks].double().numpy()[split["train"]]
    scaler = TargetScaler.fit(y_train) if task_type == "regression" else TargetScaler.identity(len(tasks))
    weigh = task_type == "classification" and o.pos_weight
    pw = torch.as_tensor(positive_weights(y_train), device=device) if weigh else None

    encoder, enc_cfg, dims = _make_encoder(cfg, ds.spec.to_dict())
    mc = cfg.model
    head_cfg = {"hidden_dim": mc.head_hidden, "num_layers": mc.head_layers, "dropout": mc.dropout,
                "activation": mc.head_activation}
    model = build_model(encoder, len(tasks), cfg.model.readout, head_cfg).to(device)
    mult = 0.0 if o.freeze_encoder else encoder_lr_mult(cfg)
    opt = torch.optim.AdamW(_param_groups(model, o.lr, mult, o.weight_decay))
    cols = torch.as_tensor(tasks, dtype=torch.long, device=device)
    loader = FastGraphLoader(tensors, batch_size=o.batch_size, shuffle=True, seed=seed, device=device,
                             indices=split["train"])
    sign = 1.0 if HIGHER_IS_BETTER.get(metric, False) else -1.0
    best_state: dict[str, Any] = {}  # {'state': the model's state_dict at the selected epoch}
    history: list[dict[str, float]] = []
    sums = [0.0, 0]  # weighted training loss and graphs of the epoch
    # per-epoch progress (total = max epochs, so an ETA) with the loss and the validation metric
    bar = tqdm(total=o.epochs, desc=f"fine-tune seed {seed}", unit=" epoch", disable=not progress_enabled(cfg.progress),
               dynamic_ncols=True, leave=True)

    def batches(loop: LoopState) -> Any:
        frozen = o.freeze_encoder or loop.epoch < o.unfreeze_after or mult == 0.0
        for p in model.encoder.parameters():
            p.requires_grad_(not frozen)
        model.train()
        if frozen:
            model.encoder.eval()
        sums[:] = [0.0, 0]
        return loader

    def loss_fn(batch: Any, loop: LoopState) -> torch.Tensor:
        out = model(batch)
        y = batch.y[:, cols]
        if task_type == "classification":
            loss = masked_bce_with_logits(out, y, pw)
        else:
            loss = masked_regression_loss(out, scaler.transform(y), o.loss)
        sums[0] += float(loss.detach()) * int(batch.num_graphs)
        sums[1] += int(batch.num_graphs)
        return loss

    def evaluate(loop: LoopState) -> float:
        val_m, _ = split_metrics(model, tensors, {"valid": split["valid"]}, tasks, task_type, scaler, target_names,
                                 o.eval_batch_size, device)
        val = headline(val_m["valid"], metric)
        history.append({"epoch": loop.epoch + 1, "train_loss": sums[0] / max(sums[1], 1), "val_metric": val})
        return -math.inf if val is None else sign * val

    def after_eval(loop: LoopState, improved: bool) -> None:
        if improved:
            best_state["state"] = copy.deepcopy(model.state_dict())
        val = history[-1]["val_metric"]
        shown = "n/a" if val is None else f"{val:.4f}"
        logger.info("seed %d epoch %d: train loss %.4f, valid %s %s", seed, loop.epoch + 1,
                    history[-1]["train_loss"], metric, shown)
        bar.set_postfix_str(f"loss {history[-1]['train_loss']:.4f}, valid {metric} {shown}, "
                            f"best epoch {loop.best_epoch}", refresh=False)
        bar.update(1)
        if loop.stopped:
            logger.info("seed %d: early stop at epoch %d (best epoch %d)", seed, loop.epoch + 1, loop.best_epoch)

    # constant LR and no autocast: the fine-tuning numbers of the benchmark suites were made that way
    optim = Optim(opt, list(model.parameters()), None, o.grad_clip)
    best_epoch = fit(loss_fn, batches, optim, o.epochs, evaluate=evaluate, after_eval=after_eval,
                     patience=o.patience).best_epoch
    bar.close()
    model.load_state_dict(best_state["state"])
    metrics, arrays = split_metrics(model, tensors, split, tasks, task_type, scaler, target_names,
                                    o.eval_batch_size, device)
    _check_finite(seed, metric, metrics, arrays, history)
    metrics["best_epoch"] = best_epoch
    meta = {"encoder_config": enc_cfg, "input_dims": dims, "head_config": head_cfg, "arrays": arrays}
    return model, scaler, split, history, metrics, meta


def _check_finite(seed: int, metric: str, metrics: dict[str, Any], arrays: dict[str, Any],
                  history: list[dict[str, float]]) -> None:
    """Refuse a model that predicts NaN / inf or whose validation metric is NaN: it must not be saved.

    Raises:
        ValueError: naming the seed, the metric and the first epoch whose training loss was not finite.
    """
    val = headline(metrics.get("valid", {}), metric)
    bad_pred = any(not np.isfinite(yp).all() for _, yp in arrays.values())
    if (val is None or math.isfinite(val)) and not bad_pred:
        return
    first = next((h["epoch"] for h in history if not math.isfinite(h["train_loss"])), None)
    where = f"; the training loss was not finite from epoch {first}" if first is not None else ""
    raise ValueError(f"seed {seed}: the model predicts non-finite values (validation {metric} {val}){where}; "
                     "not saving it (check the labels and the learning rate)")


def _summary(per_seed: dict[int, dict[str, Any]], metric_names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for split in ("train", "valid", "test"):
        row: dict[str, Any] = {}
        for m in metric_names:
            vals = [v for r in per_seed.values() if split in r and (v := headline(r[split], m)) is not None]
            if vals:
                row[m] = {"mean": float(np.mean(vals)), "std": float(np.std(vals)), "n": len(vals)}
        if row:
            out[split] = row
    return out


def finetune(cfg: FinetuneConfig) -> FinetuneResult:
    """Fine-tune one model per seed on ``cfg.data.input`` and write one ensemble bundle.

    Writes ``<out_dir>/<name>/``: ``model.pt`` (bundle), ``splits.json`` (the split used, as data-row ids),
    ``test_predictions.csv``, ``metrics.json`` (with the encoder source and the split used), ``config.yaml``
    (the split method really used), ``history.json`` and ``plots/`` (parity or ROC per seed on the test
    split, learning curves).

    Raises:
        ValueError: bad targets, a featurizer-spec mismatch with the pretrained encoder, empty splits.
    """
    t0 = time.perf_counter()
    device = resolve_device(cfg.device)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    pretrained = cfg.model.pretrained
    ckpt = load_checkpoint(pretrained) if pretrained is not None else None
    spec = dict(ckpt["featurizer_spec"]) if ckpt is not None else None
    ds = resolve_dataset(cfg, spec)
    requested_split = cfg.split.method
    cfg = outputs.resolve_split_method(cfg, ds.spec.kind)
    enc_src = outputs.encoder_source(cfg, ckpt["encoder_config"]["arch"] if ckpt is not None else None)
    logger.info("encoder: %s", outputs.describe_encoder(enc_src))
    split_desc = outputs.split_info(cfg, requested_split, ds)
    logger.info("split: %s", outputs.describe_split(split_desc))
    tasks = select_targets(list(ds.target_names), cfg.data.target_columns)
    target_names = [ds.target_names[i] for i in tasks]
    tensors = ds.tensors()
    y_all = tensors["y"][:, tasks].double().numpy()
    task_type = infer_task_type(y_all) if cfg.task_type == "auto" else cfg.task_type
    metric = cfg.optim.metric
    if metric == "auto":
        metric = "roc_auc" if task_type == "classification" else "rmse"
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"unknown metric {metric!r}; choose one of {sorted(HIGHER_IS_BETTER)}")
    logger.info("fine-tuning %s on %d graphs, %d task(s) (%s), metric %s, seeds %s", cfg.name, len(ds),
                len(tasks), task_type, metric, list(cfg.seeds))
    out_dir = Path(cfg.out_dir) / cfg.name
    out_dir.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, out_dir / "config.yaml")
    row_ids = tensors["row_id"].tolist()

    members, per_seed, histories, arrays, splits, split_rows = [], {}, {}, {}, {}, {}
    meta: dict[str, Any] = {}
    for seed in cfg.seeds:
        model, scaler, split, hist, m, meta = _train_one(cfg, seed, ds, tensors, tasks, task_type, target_names,
                                                         metric, device)
        per_seed[seed], histories[seed], arrays[seed], splits[seed] = m, hist, meta.pop("arrays"), split
        split_rows[seed] = {k: [row_ids[i] for i in v] for k, v in split.items()}
        members.append(ModelBundle.member_from_model(model, scaler, seed, split_rows[seed], m))
    names = ["roc_auc", "pr_auc"] if task_type == "classification" else ["rmse", "mae", "r2"]
    metrics = {"task_type": task_type, "metric": metric, "target_names": target_names, "seeds": list(cfg.seeds),
               "dataset": str(cfg.data.input), "n_graphs": len(ds), "encoder": enc_src, "split": split_desc,
               "n_test_dropped": int(split_desc.get("n_test_dropped", 0)),
               "per_seed": {str(s): v for s, v in per_seed.items()}, "summary": _summary(per_seed, names)}
    bundle = ModelBundle(
        encoder_config=meta["encoder_config"], input_dims=meta["input_dims"], featurizer_spec=ds.spec.to_dict(),
        readout=cfg.model.readout, head_config=meta["head_config"], task_type=task_type, target_names=target_names,
        members=members, training_config={**config_to_dict(cfg), "target_indices": tasks,
                                          "dataset_path": str(ds.path) if hasattr(ds, "path") else ""},
        metrics=metrics["summary"],
    )
    outputs.write_splits(out_dir / "splits.json", split_rows, {k: v for k, v in split_desc.items() if k != "seed"})
    outputs.write_test_predictions(out_dir / "test_predictions.csv", ds, row_ids, target_names, splits, arrays)
    bundle_path = save_bundle(bundle, out_dir / "model.pt")
    metrics["wall_s"] = time.perf_counter() - t0
    atomic_write_json(out_dir / "metrics.json", metrics)
    atomic_write_json(out_dir / "history.json", {str(s): h for s, h in histories.items()})
    if cfg.plots:
        _plots(out_dir / "plots", task_type, target_names, arrays, histories, metric,
               {s: int(m["best_epoch"]) for s, m in per_seed.items()})
    logger.info("fine-tuning done in %.1f s: %s", metrics["wall_s"], json.dumps(metrics["summary"].get("test", {})))
    return FinetuneResult(bundle_path, metrics, tuple(cfg.seeds), metrics["wall_s"], out_dir)


def _plots(d: Path, task_type: str, names: list[str], arrays: dict[int, dict], histories: dict, metric: str,
           selected: dict[int, int]) -> None:
    """Parity (regression) or ROC plots per seed on the test split (valid when empty), and learning curves."""
    from harmony_mol.finetune import plots

    try:
        for seed, arr in arrays.items():
            split = "test" if "test" in arr else "valid"
            kind, plot = ("parity", plots.parity_plot) if task_type == "regression" else ("roc", plots.roc_plot)
            plot(*arr[split], names, d / f"{kind}_{split}_seed{seed}.png", title=f"{split}, seed {seed}")
        plots.learning_curves(histories, metric, d / "learning_curves.png", selected)
    except Exception as exc:  # noqa: BLE001 - plots must never lose a trained model
        logger.warning("could not write plots in %s: %s", d, exc)
