"""One benchmark cell = one (dataset, preset, split, seed, model) training run scored on the test part."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harmony_mol.benchmark.config import BenchmarkConfig

logger = logging.getLogger(__name__)

#: Models trained by :func:`finetune` (they depend on the featurizer preset; the others do not).
NEURAL = ("harmony-pretrained", "harmony-scratch", "gin", "gin-pretrained", "cgcnn")
PRETRAINED = {"harmony-pretrained": "harmony", "gin-pretrained": "gin"}  # model -> encoder arch
#: CGCNN's pooling and head (Xie & Grossman 2018): mean over atoms, Linear -> softplus -> Linear, no dropout
#: (CGCNN's extra softplus on the pooled vector is left out: its node embeddings are softplus outputs already).
CGCNN_HEAD = {"readout": "mean", "head_layers": 2, "head_activation": "softplus", "dropout": 0.0}


@dataclass(frozen=True)
class CellData:
    """What every model of one dataset / preset needs."""

    name: str
    ds: Any
    task_type: str
    metric: str
    target_names: list[str]
    y: np.ndarray  # [G, T]
    features: np.ndarray | None  # RF input (ECFP / composition), built once


def neural_cell(cfg: BenchmarkConfig, data: CellData, model: str, split_file: Path, seed: int,
                checkpoint: Path | None, run_name: str) -> dict[str, Any]:
    """Fine-tune a :data:`NEURAL` model with :func:`finetune` on the split file (pretrained: from ``checkpoint``)."""
    from harmony_mol.finetune.config import (
        FinetuneConfig,
        FinetuneDataConfig,
        FinetuneModelConfig,
        FinetuneOptimConfig,
        FinetuneSplitConfig,
    )
    from harmony_mol.finetune.metrics import headline
    from harmony_mol.finetune.train import finetune
    from harmony_mol.models.registry import encoder_config_from_dict

    head = {"readout": cfg.readout, "head_hidden": cfg.head_hidden, "head_layers": cfg.head_layers,
            "dropout": cfg.dropout, **(CGCNN_HEAD if model == "cgcnn" else {})}
    if model in PRETRAINED:
        if checkpoint is None:
            raise ValueError(f"{model} needs a pretrained checkpoint")
        mcfg = FinetuneModelConfig(pretrained=checkpoint, **head)
    else:
        enc = {"arch": model, **getattr(cfg, model)} if model in ("gin", "cgcnn") else dict(cfg.encoder)
        mcfg = FinetuneModelConfig(encoder=encoder_config_from_dict(enc), **head)
    fcfg = FinetuneConfig(
        name=run_name, data=FinetuneDataConfig(input=str(data.ds.path)),
        split=FinetuneSplitConfig(method="file", file=split_file), model=mcfg,
        optim=FinetuneOptimConfig(**{**cfg.optim, "metric": data.metric}), task_type=data.task_type,  # type: ignore[arg-type]
        seeds=(seed,), out_dir=cfg.scratch_dir / "finetune", device=cfg.device, plots=False, progress=False,
        threads=cfg.threads,
    )
    res = finetune(fcfg)
    per = res.metrics["per_seed"][str(seed)]
    return {"test": headline(per["test"], data.metric), "valid": headline(per["valid"], data.metric),
            "best_epoch": per.get("best_epoch"), "encoder_lr_mult": res.metrics["encoder"]["lr_mult"]}


def _scores(data: CellData, parts: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """Headline metric of each ``{part: (y_true, y_pred)}`` as a cell result (no epochs)."""
    from harmony_mol.finetune.metrics import compute_metrics, headline

    m = {k: headline(compute_metrics(data.task_type, yt, yp, data.target_names, k), data.metric)
         for k, (yt, yp) in parts.items()}
    return {"test": m.get("test"), "valid": m.get("valid"), "best_epoch": None}


def rf_cell(cfg: BenchmarkConfig, data: CellData, split: dict[str, list[int]], seed: int) -> dict[str, Any]:
    """ECFP4 / composition features + random forest."""
    from harmony_mol.benchmark.baselines import random_forest

    if data.features is None:
        raise ValueError(f"no random-forest features for {data.name}")
    return _scores(data, random_forest(data.features, data.y, split, data.task_type, cfg.rf_trees, seed,
                                       n_jobs=cfg.threads or -1))


def dummy_cell(data: CellData, split: dict[str, list[int]]) -> dict[str, Any]:
    """Predict the per-task training mean for every graph (Matbench's "Dummy"; ROC-AUC 0.5 by construction)."""
    mean = np.nanmean(data.y[split["train"]], axis=0)
    return _scores(data, {k: (data.y[split[k]], np.broadcast_to(mean, data.y[split[k]].shape).copy())
                          for k in ("valid", "test") if split[k]})


def chemprop_cell(cfg: BenchmarkConfig, data: CellData, split: dict[str, list[int]], seed: int,
                  run_name: str) -> dict[str, Any]:
    """Run chemprop v2 through its CLI (see :mod:`harmony_mol.benchmark.chemprop_runner`)."""
    from harmony_mol.benchmark.chemprop_runner import run_chemprop

    test = run_chemprop(data.ds.inputs, data.y, data.target_names, split, data.task_type, seed,
                        cfg.scratch_dir / "chemprop" / run_name, epochs=cfg.chemprop.epochs,
                        extra_args=cfg.chemprop.extra_args, command=cfg.chemprop.command)
    return _scores(data, {"test": test})


def run_cell(cfg: BenchmarkConfig, data: CellData, model: str, split: dict[str, list[int]], split_file: Path,
             seed: int, checkpoint: Path | None, run_name: str) -> dict[str, Any]:
    """Run one model; returns ``{test, valid, best_epoch, error, wall_s}`` (``test`` None + ``error`` on failure)."""
    t0 = time.perf_counter()
    try:
        if model in NEURAL:
            out = neural_cell(cfg, data, model, split_file, seed, checkpoint, run_name)
        elif model == "rf":
            out = rf_cell(cfg, data, split, seed)
        elif model == "dummy":
            out = dummy_cell(data, split)
        elif model == "chemprop":
            out = chemprop_cell(cfg, data, split, seed, run_name)
        else:
            raise ValueError(f"unknown model {model!r}")
        out["error"] = ""
    except Exception as exc:  # noqa: BLE001 - one failed cell must not lose the others; it is recorded
        logger.error("cell %s failed: %s", run_name, exc)
        out = {"test": None, "valid": None, "best_epoch": None, "error": f"{type(exc).__name__}: {exc}"}
    out["wall_s"] = round(time.perf_counter() - t0, 2)
    return out
