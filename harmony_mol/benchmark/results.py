"""``results.csv``: one row per benchmark cell, rewritten atomically after each cell (resumable)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Any

from filelock import FileLock

from harmony_mol.benchmark.config import BenchmarkConfig
from harmony_mol.config import config_to_dict
from harmony_mol.utils.io import atomic_write_text, try_lock

logger = logging.getLogger(__name__)

COLUMNS = ("suite", "mode", "dataset", "preset", "split", "seed", "model", "metric", "test", "valid", "best_epoch",
           "n_train", "n_valid", "n_test", "split_hash", "checkpoint", "encoder_lr_mult", "wall_s", "error", "settings")
#: Config fields that do not change any cell's number (so they may differ on resume).
#: ``pretrain`` is left out: pretrained rows carry their checkpoint's digest instead (``checkpoint`` column).
_NEUTRAL = ("datasets", "models", "presets", "splits", "seeds", "folds", "out_dir", "work_dir", "data_dir", "resume",
            "threads", "device", "mode", "pretrain")
#: Config fields only one suite reads: left out of the other suites' hashes (adding them kept those hashes).
_SUITE_ONLY = {"cgcnn": "crystals"}


def settings_hash(cfg: BenchmarkConfig) -> str:
    """Hash of every setting that changes results (model sizes, optimiser, subsets, checkpoints...)."""
    d = {k: v for k, v in config_to_dict(cfg).items()
         if k not in _NEUTRAL and _SUITE_ONLY.get(k, cfg.suite) == cfg.suite}
    # fine-tuning trains a from-scratch encoder at the full LR since issue 15: rows from before are dropped
    d["encoder_lr_rule"] = "scratch 1.0, pretrained 0.1"
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:10]


def csv_text(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """``rows`` as CSV text under a ``columns`` header (missing keys and None are written as "")."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


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
    """Rows of one suite's ``results.csv`` made with ``settings`` (failed cells are listed and re-run).

    Several processes may run the same suite at once (each with ``threads: 1`` on its own core): every
    write re-reads the file under a ``filelock`` lock and merges, and :meth:`claim` hands each cell to one
    process through a lock in ``claims_dir`` (the OS frees the claims of a killed process, so they are taken over).
    """

    def __init__(self, path: Path, settings: str, resume: bool = True, claims_dir: Path | None = None) -> None:
        self.path = Path(path)
        self.settings = settings
        self.claims_dir = Path(claims_dir) if claims_dir is not None else None
        self.rows: list[dict[str, Any]] = []
        self._claims: dict[tuple[str, str, str, int, str], FileLock] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(self.path.parent / f".{self.path.name}.lock")
        with self._lock:
            if not resume:
                self._write([])  # start over
            old = self._read()
        self._adopt(old)
        if len(self.rows) < len(old):
            logger.warning("%s: dropping %d row(s) made with other settings", self.path, len(old) - len(self.rows))

    def _read(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        with open(self.path, newline="") as f:
            return [{k: _num(v) if k not in ("error", "settings", "split_hash", "split", "preset", "checkpoint") else v
                     for k, v in r.items()} for r in csv.DictReader(f)]

    def _adopt(self, rows: list[dict[str, Any]]) -> None:
        """Keep the rows made with our settings (from the file, which every process writes under the lock)."""
        self.rows = [r for r in rows if r.get("settings") == self.settings]
        self._done = {_key(r): str(r.get("checkpoint") or "") for r in self.rows if not r.get("error")}

    def _write(self, rows: list[dict[str, Any]]) -> None:
        atomic_write_text(self.path, csv_text(rows, COLUMNS))

    def has(self, key: tuple[str, str, str, int, str], checkpoint: str = "") -> bool:
        """Whether this cell already has a result (made from the same pretrained checkpoint, if any)."""
        return key in self._done and self._done[key] == checkpoint

    def _claim_path(self, key: tuple[str, str, str, int, str]) -> Path:
        assert self.claims_dir is not None
        return self.claims_dir / ("__".join(map(str, key)) + ".lock")

    def claim(self, key: tuple[str, str, str, int, str], checkpoint: str = "") -> bool:
        """True when this process should run ``key``: not done (by anyone) and not being run by another process."""
        if self.has(key, checkpoint):  # finished rows never disappear: no need to re-read the file
            return False
        with self._lock:
            self._adopt(self._read())
            if self.has(key, checkpoint):
                return False
            if self.claims_dir is None:
                return True
            lock = try_lock(self._claim_path(key))  # None: another process (or store) holds the claim
            if lock is not None:
                self._claims[key] = lock
            return lock is not None

    def add(self, row: dict[str, Any]) -> None:
        """Append ``row``, merge what other processes wrote, and rewrite the file atomically."""
        row = {**row, "settings": self.settings}
        with self._lock:
            self._adopt(self._read())
            if not row.get("error"):  # a success replaces an earlier failure of the same cell
                self.rows = [r for r in self.rows if not (r.get("error") and _key(r) == _key(row))]
            self.rows.append(row)
            if not row.get("error"):
                self._done[_key(row)] = str(row.get("checkpoint") or "")
            self._write(self.rows)
        if (claim := self._claims.pop(_key(row), None)) is not None:
            claim.release()

    @property
    def calls_path(self) -> Path:
        """``calls.jsonl`` beside ``results.csv``: one line per start / end of a ``run_benchmark`` call."""
        return self.path.parent / "calls.jsonl"

    def log_call(self, event: dict[str, Any]) -> None:
        """Append one call event (command, commit, pid, cell counts...) to :attr:`calls_path` atomically."""
        with self._lock:
            old = self.calls_path.read_text() if self.calls_path.is_file() else ""
            atomic_write_text(self.calls_path, old + json.dumps({**event, "settings": self.settings},
                                                                 sort_keys=True, default=str) + "\n")

    def calls(self) -> list[dict[str, Any]]:
        """The logged calls made with our settings, one dict per call (start merged with its end, if any)."""
        if not self.calls_path.is_file():
            return []
        out: dict[tuple[Any, Any], dict[str, Any]] = {}
        for line in self.calls_path.read_text().splitlines():
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if ev.get("settings") == self.settings:
                out.setdefault((ev.get("pid"), ev.get("call")), {}).update(ev)
        return list(out.values())

    def refresh(self) -> list[dict[str, Any]]:
        """All rows with our settings, including those other processes finished meanwhile."""
        with self._lock:
            self._adopt(self._read())
        return self.rows
