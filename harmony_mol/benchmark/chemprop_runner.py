"""chemprop v2 baseline: train through its CLI on our split files, score its test predictions with our metrics.

chemprop pulls in lightning, which the core environment leaves out (DeepChem probes for it at import),
so it lives in a side install: ``make chemprop`` puts it in ``~/.cache/harmony-mol/chemprop-site`` and
this module runs ``python <site>/bin/chemprop`` with that folder on ``PYTHONPATH``. A ``chemprop`` on
``PATH`` is used first. Without either, chemprop cells are skipped with a logged reason.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

logger = logging.getLogger(__name__)

SIDE_SITE = Path.home() / ".cache" / "harmony-mol" / "chemprop-site"


class ChempropUnavailable(RuntimeError):
    """chemprop is not installed where we look for it."""


def chemprop_command(explicit: Sequence[str] | None = None) -> tuple[list[str], dict[str, str]]:
    """``(argv prefix, extra env)`` that runs the chemprop CLI.

    Raises:
        ChempropUnavailable: no ``chemprop`` on PATH and no side install.
    """
    if explicit:
        return list(explicit), {}
    if exe := shutil.which("chemprop"):
        return [exe], {}
    site = Path(os.environ.get("HARMONY_CHEMPROP_SITE", SIDE_SITE))
    script = site / "bin" / "chemprop"
    if script.is_file():
        path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        return [sys.executable, str(script)], {"PYTHONPATH": path}
    raise ChempropUnavailable(f"chemprop not found (no `chemprop` on PATH, no {script}); run `make chemprop`")


def _write(path: Path, smiles: Sequence[str], y: np.ndarray, names: Sequence[str]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["smiles", *names])
        for s, row in zip(smiles, y):
            w.writerow([s, *("" if math.isnan(v) else repr(float(v)) for v in row)])


def _read_predictions(path: Path, smiles: Sequence[str], t: int) -> np.ndarray:
    """The test predictions of chemprop, checked to be in the order of ``smiles``."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    if len(rows) != len(smiles):
        raise RuntimeError(f"{path}: {len(rows)} predictions for {len(smiles)} test molecules")
    for i, (r, s) in enumerate(zip(rows, smiles)):
        if r[0].strip() != s.strip():
            raise RuntimeError(f"{path}: row {i + 1} is {r[0]!r}, expected {s!r} (order changed)")
    return np.array([[float(v) for v in r[1:1 + t]] for r in rows], dtype=np.float64)


def run_chemprop(smiles: Sequence[str], y: np.ndarray, names: Sequence[str], split: dict[str, list[int]],
                 task_type: str, seed: int, work: Path, epochs: int = 50, extra_args: Sequence[str] = (),
                 command: Sequence[str] | None = None, timeout_s: int = 6 * 3600) -> tuple[np.ndarray, np.ndarray]:
    """Train chemprop (D-MPNN, its defaults) on ``split`` and return ``(y_true, y_pred)`` of the test part.

    Args:
        smiles: SMILES of every graph of the dataset (dataset order).
        y: ``[G, T]`` labels, NaN = missing.
        names: Task names.
        split: Dataset indices of train / valid / test.
        task_type: ``classification`` or ``regression``.
        seed: ``--pytorch-seed`` (chemprop's weight init and shuffling).
        work: Run folder (CSV files, chemprop's output); replaced if present.
        epochs: ``--epochs``.
        extra_args: More chemprop CLI arguments.
        command: The chemprop command (``None``: see :func:`chemprop_command`).
        timeout_s: Limit of the chemprop run.

    Raises:
        ChempropUnavailable: not installed.
        RuntimeError: chemprop failed (its log tail in the message).
    """
    import torch

    argv, env = chemprop_command(command)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    cols = [f"t{i}" for i in range(len(names))]  # task names may hold characters chemprop's parser dislikes
    files = [str(work / f"{part}.csv") for part in ("train", "valid", "test")]
    for part, path in zip(("train", "valid", "test"), files):
        _write(Path(path), [smiles[i] for i in split[part]], y[split[part]], cols)
    out = work / "out"
    cmd = [*argv, "train", "-i", *files, "-s", "smiles", "--target-columns", *cols, "-t", task_type,
           "--epochs", str(epochs), "--pytorch-seed", str(seed), "--data-seed", str(seed), "-o", str(out),
           "--accelerator", "gpu" if torch.cuda.is_available() else "cpu", "--devices", "1", "-n", "0", *extra_args]
    logger.info("chemprop: %s", " ".join(cmd[len(argv):]))
    log = work / "chemprop.log"
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env={**os.environ, **env},
                              timeout=timeout_s, check=False)
    if proc.returncode != 0:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        raise RuntimeError(f"chemprop exited with {proc.returncode} ({lines[-1][:300] if lines else 'no output'}); "
                           f"full log: {log}")
    pred = _read_predictions(out / "model_0" / "test_predictions.csv", [smiles[i] for i in split["test"]],
                             len(names))
    return y[split["test"]], pred
