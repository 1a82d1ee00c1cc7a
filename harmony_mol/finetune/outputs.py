"""What a fine-tuning run writes beside ``model.pt`` so a user needs no second pass.

- ``splits.json``: the split actually used, as 0-based data-row ids (``harmony-split/1``, loadable with
  ``--split-file``); several seeds with different splits add ``per_seed``.
- ``test_predictions.csv``: one row per (seed, test graph): ``seed, row_id, id, input``, then the
  measured ``<target>`` and ``<target>_pred`` per target (a probability for classification tasks).

Also the run's provenance lines: which encoder it started from and which split it really used.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from harmony_mol.data.splits import SPLIT_FORMAT, load_split
from harmony_mol.finetune.config import FinetuneConfig, encoder_lr_mult
from harmony_mol.utils.io import atomic_open, atomic_write_json

logger = logging.getLogger(__name__)

#: RFC 4180 line ends (as ``harmony predict``): a field holding a CR or LF is quoted and reads back.
CSV_LINE_END = "\r\n"


def resolve_split_method(cfg: FinetuneConfig, kind: str) -> FinetuneConfig:
    """The config with the split method really used (``scaffold`` needs molecules: ``random`` for crystals)."""
    if cfg.split.method == "scaffold" and kind != "molecule":
        logger.warning("scaffold split needs molecules; using a random split for %s data "
                       "(config.yaml records split.method: random)", kind)
        return dataclasses.replace(cfg, split=dataclasses.replace(cfg.split, method="random"))
    return cfg


def encoder_source(cfg: FinetuneConfig, pretrained_arch: str | None = None) -> dict[str, Any]:
    """``{"pretrained": path | None, "which", "arch", "lr_mult"}`` for logs, ``metrics.json`` and the summary.

    ``pretrained_arch``: the ``arch`` of ``cfg.model.pretrained`` (from its checkpoint, which the caller has loaded).
    """
    mult = encoder_lr_mult(cfg)
    if cfg.model.pretrained is not None:
        arch = pretrained_arch or "harmony"
        return {"pretrained": str(cfg.model.pretrained), "which": cfg.model.which, "arch": arch, "lr_mult": mult}
    return {"pretrained": None, "which": None, "arch": cfg.model.encoder.arch, "lr_mult": mult}


def describe_encoder(src: dict[str, Any]) -> str:
    """One line: ``pretrained <file> (student weights)`` or ``from scratch (harmony, random init)``."""
    lr = f"; encoder LR x{src['lr_mult']:g}" if "lr_mult" in src else ""
    if src.get("pretrained"):
        return f"pretrained {src['pretrained']} ({src['which']} weights{lr})"
    return f"from scratch ({src.get('arch', 'harmony')}, random init; no --pretrained{lr})"


def split_info(cfg: FinetuneConfig, requested: str, dataset: Any) -> dict[str, Any]:
    """``{"method", "requested", "file", "fractions", "dropped": {part: n}, "n_test_dropped"}`` of the run."""
    s = cfg.split
    info: dict[str, Any] = {"method": s.method, "requested": requested}
    if s.method in ("scaffold", "random"):
        info["fractions"] = list(s.fractions)
    if s.method == "kfold":
        info.update(n_folds=s.n_folds, fold=s.fold)
    if s.method in ("random", "kfold"):
        info["seed"] = "replicate seed" if s.vary_with_seed else s.split_seed
    if s.method == "file":
        dropped = dict(load_split(s.file, dataset).meta.get("dropped", {}))
        info.update(file=str(s.file), dropped=dropped, n_test_dropped=int(dropped.get("test", 0)))
    return info


def describe_split(info: dict[str, Any]) -> str:
    """One line for the summary, e.g. ``file s.json (2 test rows dropped: rejected by the featurizer)``."""
    text = info["method"]
    if info.get("requested") and info["requested"] != info["method"]:
        text += f" (asked for {info['requested']}; it needs molecules)"
    if info["method"] == "file":
        d = info.get("dropped", {})
        text += (f" {info['file']} ({info['n_test_dropped']} test rows dropped: rejected by the featurizer"
                 f"; train {d.get('train', 0)}, valid {d.get('valid', 0)})")
    return text


def write_splits(path: Path, splits: dict[int, dict[str, list[int]]], meta: dict[str, Any]) -> None:
    """Write ``splits.json`` from ``{seed: {part: data-row ids}}`` (0-based rows of the input).

    The first seed's split sits at the top level (``--split-file`` reads it), plus ``per_seed`` when there
    are several seeds.
    """
    first = next(iter(splits))
    obj: dict[str, Any] = {"format": SPLIT_FORMAT, "meta": {**meta, "seed": int(first)}, **splits[first]}
    if len(splits) > 1:
        obj["per_seed"] = {str(seed): sp for seed, sp in splits.items()}
    atomic_write_json(path, obj)


def _column(dataset: Any, name: str, n: int) -> list[str] | None:
    try:
        values = list(getattr(dataset, name))
    except (AttributeError, OSError):
        return None
    return values if len(values) == n else None


def write_test_predictions(path: Path, dataset: Any, row_ids: Sequence[int], target_names: Sequence[str],
                           splits: dict[int, dict[str, list[int]]],
                           arrays: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]]) -> None:
    """Write ``test_predictions.csv`` (see the module docstring); an empty test split gives the header only.

    Args:
        path: Output file.
        dataset: The graphs (its ``ids`` and ``inputs`` are echoed when it has them).
        row_ids: 0-based data-row id of every graph, in dataset order.
        target_names: The model's targets.
        splits: ``{seed: {part: dataset indices}}``.
        arrays: ``{seed: {part: (y_true [G, T], y_pred [G, T])}}`` in the order of ``splits``.
    """
    n = len(dataset)
    ids = _column(dataset, "ids", n) or [str(r) for r in row_ids]
    inputs = _column(dataset, "inputs", n) or [""] * n
    empty = np.zeros((0, len(target_names)))
    frames = []
    for seed, sp in splits.items():
        idx = list(sp.get("test", []))
        yt, yp = arrays[seed].get("test", (empty, empty))
        df = pd.DataFrame({"seed": [int(seed)] * len(idx), "row_id": [int(row_ids[i]) for i in idx],
                           "id": [ids[i] for i in idx], "input": [inputs[i] for i in idx]})
        for k, name in enumerate(target_names):
            truth = f"{name}_true" if name in ("seed", "row_id", "id", "input") else name
            df[truth] = yt[:, k] if len(idx) else []
            df[f"{name}_pred"] = yp[:, k] if len(idx) else []
        frames.append(df)
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        pd.concat(frames, ignore_index=True).to_csv(fh, index=False, lineterminator=CSV_LINE_END)
