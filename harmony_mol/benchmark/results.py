"""``results.csv``: one row per benchmark cell, rewritten atomically after each cell (resumable)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Any

from harmony_mol.benchmark.config import BenchmarkConfig
from harmony_mol.config import config_to_dict
from harmony_mol.utils.io import atomic_write_text

logger = logging.getLogger(__name__)

COLUMNS = ("suite", "mode", "dataset", "preset", "split", "seed", "model", "metric", "test", "valid", "best_epoch",
           "n_train", "n_valid", "n_test", "split_hash", "checkpoint", "wall_s", "error", "settings")
#: Config fields that do not change any cell's number (so they may differ on resume).
#: ``pretrain`` is left out: pretrained rows carry their checkpoint's digest instead (``checkpoint`` column).
_NEUTRAL = ("datasets", "models", "presets", "splits", "seeds", "folds", "out_dir", "work_dir", "data_dir", "resume",
            "threads", "device", "mode", "pretrain")


def settings_hash(cfg: BenchmarkConfig) -> str:
    """Hash of every setting that changes results (model sizes, optimiser, subsets, checkpoints...)."""
    d = {k: v for k, v in config_to_dict(cfg).items() if k not in _NEUTRAL}
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _key(row: dict[str, Any]) -> tuple[str, str, str, int, str]:
    return (str(row["dataset"]), str(row["preset"]), str(row["split"]), int(row["seed"]), str(row["model"]))


def _num(v: Any) -> Any:
    if v in ("", None):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return int(f) if f.is_integer() and "." not in str(v) and "e" not in str(v).lower() else f


class ResultStore:
    """Rows of one suite's ``results.csv`` (only rows made with ``settings``; failed cells are re-run)."""

    def __init__(self, path: Path, settings: str, resume: bool = True) -> None:
        self.path = Path(path)
        self.settings = settings
        self.rows: list[dict[str, Any]] = []
        if resume and self.path.is_file():
            with open(self.path, newline="") as f:
                old = [{k: _num(v) if k not in ("error", "settings", "split_hash", "split", "preset", "checkpoint") else v
                        for k, v in r.items()} for r in csv.DictReader(f)]
            keep = [r for r in old if r.get("settings") == settings and not r.get("error")]
            if len(keep) < len(old):
                logger.warning("%s: dropping %d row(s) made with other settings or that failed", self.path,
                               len(old) - len(keep))
            self.rows = keep
        self._done = {_key(r): str(r.get("checkpoint") or "") for r in self.rows}

    def has(self, key: tuple[str, str, str, int, str], checkpoint: str = "") -> bool:
        """Whether this cell already has a result (made from the same pretrained checkpoint, if any)."""
        return key in self._done and self._done[key] == checkpoint

    def add(self, row: dict[str, Any]) -> None:
        """Append ``row`` and rewrite the file atomically."""
        row = {**row, "settings": self.settings}
        self.rows.append(row)
        if not row.get("error"):
            self._done[_key(row)] = str(row.get("checkpoint") or "")
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(COLUMNS), extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in self.rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in COLUMNS})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, buf.getvalue())
