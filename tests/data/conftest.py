"""Fixtures for the data tests: H1's featurizers (or stand-ins until they land) and tiny inputs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.data.samples import BAD_ROWS
from tests.data.stub_featurizers import ensure_featurizers

ensure_featurizers()


@pytest.fixture(scope="session")
def moses_smiles(shared_data: Path) -> list[str]:
    with open(shared_data / "pretrain/moses_zinc_samples/train10k.csv", newline="") as fh:
        return [r["SMILES"] for _, r in zip(range(1000), csv.DictReader(fh))]


@pytest.fixture()
def mixed_csv(tmp_path: Path, moses_smiles: list[str]) -> tuple[Path, list[tuple[int, str, float]]]:
    """1,000 valid MOSES SMILES with labels 0..999 plus the five bad rows of the issue.

    Returns the CSV path and the expected kept rows as (row_id, smiles, label).
    """
    rows: list[tuple[str, float]] = []
    good = iter(enumerate(moses_smiles))
    expected = []
    total = len(moses_smiles) + len(BAD_ROWS)
    for pos in range(total):
        if pos in BAD_ROWS:
            rows.append((BAD_ROWS[pos], -1.0))
        else:
            i, smi = next(good)
            rows.append((smi, float(i)))
            expected.append((pos, smi, float(i)))
    path = tmp_path / "mixed.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["smiles", "label"])
        w.writerows(rows)
    return path, expected
