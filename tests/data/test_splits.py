"""Splitters: scaffold (no scaffold on two sides, deterministic, fractions), random, k-fold, split files."""

from __future__ import annotations

import pytest

from harmony_mol.data.splits import (
    Split,
    kfold_splits,
    load_split,
    murcko_scaffold,
    random_split,
    save_split,
    scaffold_split,
)


def test_scaffold_split_disjoint_deterministic(moses_smiles):
    smiles = moses_smiles[:600]
    s1 = scaffold_split(smiles, (0.8, 0.1, 0.1))
    assert s1 == scaffold_split(smiles, (0.8, 0.1, 0.1))
    parts = [{murcko_scaffold(smiles[i]) for i in p} for p in (s1.train, s1.valid, s1.test)]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert sorted(s1.train + s1.valid + s1.test) == list(range(600))
    assert len(s1.train) <= 480 and len(s1.train) + len(s1.valid) <= 540
    assert len(s1.train) > 400 and len(s1.test) >= 60
    b1 = scaffold_split(smiles, (0.8, 0.1, 0.1), balanced=True, seed=0)
    assert b1 == scaffold_split(smiles, (0.8, 0.1, 0.1), balanced=True, seed=0)
    assert b1 != scaffold_split(smiles, (0.8, 0.1, 0.1), balanced=True, seed=1)


def test_scaffold_split_groups_largest_first():
    smiles = ["c1ccccc1C", "c1ccccc1CC", "c1ccccc1O", "C1CCCCC1C", "C1CCCCC1O", "CCO", "CCN", "N1CCCC1"]
    s = scaffold_split(smiles, (0.5, 0.25, 0.25))
    # groups: benzene 3, then size-2 ties by scaffold string ('' before 'C1CCCCC1'), then pyrrolidine 1;
    # cut-offs train 4, train+valid 6: benzene->train, ''->valid, cyclohexane->test, pyrrolidine->train
    assert s.train == [0, 1, 2, 7] and s.valid == [5, 6] and s.test == [3, 4]


def test_random_and_kfold():
    r = random_split(100, (0.8, 0.1, 0.1), seed=0)
    assert r.sizes() == (80, 10, 10) and r == random_split(100, (0.8, 0.1, 0.1), seed=0)
    assert r != random_split(100, (0.8, 0.1, 0.1), seed=1)
    folds = kfold_splits(23, k=5)
    assert sorted(i for f in folds for i in f.test) == list(range(23))
    assert all(not set(f.train) & set(f.test) for f in folds)
    with pytest.raises(ValueError):
        random_split(10, (0.5, 0.5, 0.5))


class _FakeDataset:
    row_ids = [0, 2, 3, 5, 8]
    path = "fake"


def test_split_file_roundtrip_by_row_id(tmp_path):
    split = Split(train=[0, 1], valid=[2], test=[3, 4], meta={"method": "x"})
    f = tmp_path / "split.json"
    save_split(split, f, _FakeDataset.row_ids)
    assert load_split(f, _FakeDataset()) == split

    class Refeaturized:  # row 2 was rejected this time: indices shift, row ids do not
        row_ids = [0, 3, 5, 8]

    assert load_split(f, Refeaturized()) == Split(train=[0], valid=[1], test=[2, 3])
