"""chemprop baseline: its test predictions come back in our split's order (needs `make chemprop`; skipped otherwise)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from harmony_mol.benchmark.chemprop_runner import ChempropUnavailable, chemprop_command, run_chemprop


def _chemprop_or_skip() -> None:
    try:
        chemprop_command()
    except ChempropUnavailable as exc:
        pytest.skip(str(exc))


def test_unavailable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HARMONY_CHEMPROP_SITE", str(tmp_path / "nowhere"))
    with pytest.raises(ChempropUnavailable, match="make chemprop"):
        chemprop_command()


def test_chemprop_trains_and_scores_our_split(tmp_path: Path, repo_root: Path) -> None:
    _chemprop_or_skip()
    rows = list(csv.DictReader(open(repo_root / "data" / "molecules" / "freesolv.csv")))[:60]
    smiles = [r["smiles"] for r in rows]
    y = np.array([[float(r["expt"])] for r in rows])
    y[5, 0] = np.nan  # a missing label in train must be tolerated
    split = {"train": list(range(0, 40)), "valid": list(range(40, 50)), "test": list(range(50, 60))}
    yt, yp = run_chemprop(smiles, y, ["expt"], split, "regression", seed=0, work=tmp_path / "cp", epochs=3)
    assert yt.shape == yp.shape == (10, 1) and np.array_equal(yt, y[50:60]) and np.isfinite(yp).all()
