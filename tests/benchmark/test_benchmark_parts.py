"""Benchmark parts: fingerprints, composition features, forests, Matbench folds, the result store, GIN, CGCNN."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from harmony_mol.benchmark import splits as S
from harmony_mol.benchmark.baselines import composition_features, ecfp_features, random_forest
from harmony_mol.benchmark.config import BenchmarkConfig
from harmony_mol.benchmark.results import ResultStore, settings_hash


def test_ecfp_bits_and_bad_smiles() -> None:
    X = ecfp_features(["CCO", "c1ccccc1O", "not a smiles", ""])
    assert X.shape == (4, 2048) and X.dtype == np.uint8
    assert X[0].sum() > 0 and X[1].sum() > X[0].sum()
    assert X[2].sum() == 0 and X[3].sum() == 0


def test_composition_features_fractions_and_stats() -> None:
    # two graphs: Na Cl (ids 11, 17) and O O Ti (8, 8, 22); one float property = the element id
    x = torch.tensor([[11], [17], [8], [8], [22]])
    feat = x.float()
    F = composition_features({"x": x, "x_feat": feat, "node_ptr": torch.tensor([0, 2, 5])})
    n_el = 23
    assert F.shape == (2, n_el + 4)
    assert F[0, 11] == pytest.approx(0.5) and F[0, 17] == pytest.approx(0.5)
    assert F[1, 8] == pytest.approx(2 / 3) and F[1, 22] == pytest.approx(1 / 3)
    mean, std, mn, mx = F[1, n_el:]
    assert mean == pytest.approx(38 / 3) and mn == 8 and mx == 22
    assert std == pytest.approx(np.std([8, 8, 22]), rel=1e-5)


def test_random_forest_handles_missing_labels_and_single_class() -> None:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(60, 16)).astype(np.uint8)
    y = np.stack([X[:, 0].astype(float), np.ones(60)], 1)  # task 2 has one class only
    y[::5, 0] = np.nan
    split = {"train": list(range(40)), "valid": list(range(40, 50)), "test": list(range(50, 60))}
    out = random_forest(X, y, split, "classification", trees=10, seed=0, n_jobs=1)
    yt, yp = out["test"]
    assert yt.shape == yp.shape == (10, 2)
    keep = ~np.isnan(yt[:, 0])
    assert np.all((yp[keep, 0] > 0.5) == (yt[keep, 0] == 1))  # the label is feature 0: the forest finds it
    assert np.all(yp[:, 1] == 1.0)


class _DS:
    def __init__(self, n_rows: int, rejected: set[int]) -> None:
        self.row_ids = [r for r in range(n_rows) if r not in rejected]
        self.manifest = {"counts": {"rows": n_rows}}


def test_matbench_split_follows_sklearn_kfold_over_input_rows() -> None:
    from sklearn.model_selection import KFold

    ds = _DS(100, rejected={3, 50})
    folds = list(KFold(5, shuffle=True, random_state=18012019).split(np.arange(100)))
    pos = {r: i for i, r in enumerate(ds.row_ids)}
    for f in range(5):
        sp = S.matbench_split(ds, f, seed=0)
        assert sp["test"] == sorted(pos[r] for r in folds[f][1] if r in pos)
        assert set(sp["train"]).isdisjoint(sp["valid"]) and set(sp["train"]).isdisjoint(sp["test"])
        assert sorted(sp["train"] + sp["valid"]) == sorted(pos[r] for r in folds[f][0] if r in pos)


def test_subsample_and_hash() -> None:
    sp = {"train": list(range(80)), "valid": list(range(80, 90)), "test": list(range(90, 100))}
    small = S.subsample(sp, 20, seed=1)
    assert sum(map(len, small.values())) <= 20 and set(small["train"]) <= set(sp["train"])
    assert S.subsample(sp, 0, 1) is sp
    assert S.split_hash(sp) == S.split_hash({k: list(v) for k, v in sp.items()})
    assert S.split_hash(sp) != S.split_hash(small)


def test_result_store_resumes_only_same_settings(tmp_path: Path) -> None:
    cfg = BenchmarkConfig(suite="regression")
    h = settings_hash(cfg)
    assert settings_hash(BenchmarkConfig(suite="regression", seeds=(5,), threads=1)) == h  # neutral fields
    assert settings_hash(BenchmarkConfig(suite="regression", rf_trees=7)) != h
    path = tmp_path / "results.csv"
    st = ResultStore(path, h)
    row = {"dataset": "esol", "preset": "harmony", "split": "scaffold", "seed": 0, "model": "rf", "test": 1.25}
    st.add(row)
    st.add({**row, "model": "gin", "test": None, "error": "boom"})
    again = ResultStore(path, h)
    assert again.has(("esol", "harmony", "scaffold", 0, "rf"))
    assert not again.has(("esol", "harmony", "scaffold", 0, "gin"))
    assert again.rows[0]["test"] == 1.25
    assert ResultStore(path, "other").rows == []


def test_result_store_shares_cells_between_processes(tmp_path: Path, lock_holder) -> None:
    path, claims = tmp_path / "results.csv", tmp_path / "claims"
    a, b = ResultStore(path, "h", claims_dir=claims), ResultStore(path, "h", claims_dir=claims)
    k0, k1 = ("bbbp", "-", "scaffold", 0, "rf"), ("bbbp", "-", "scaffold", 1, "rf")
    assert a.claim(k0) and not b.claim(k0)  # a runs seed 0, so b moves on
    assert b.claim(k1)
    row = {"dataset": "bbbp", "preset": "-", "split": "scaffold", "model": "rf"}
    b.add({**row, "seed": 1, "test": 0.7})
    a.add({**row, "seed": 0, "test": 0.8})  # merges b's row instead of overwriting it
    assert sorted(r["seed"] for r in ResultStore(path, "h").rows) == [0, 1]
    assert not b.claim(k0) and {r["seed"] for r in b.refresh()} == {0, 1}
    # a failed cell is re-run and its success replaces the failure row
    k2 = ("bbbp", "-", "scaffold", 2, "rf")
    assert a.claim(k2)
    a.add({**row, "seed": 2, "test": None, "error": "boom"})
    assert b.claim(k2)  # a released its claim with the row
    b.add({**row, "seed": 2, "test": 0.75})
    assert [r["test"] for r in a.refresh() if r["seed"] == 2] == [0.75]
    # a cell claimed by another process is left to it, and taken over once that process is killed
    k3 = ("bbbp", "-", "scaffold", 3, "rf")
    holder = lock_holder(b._claim_path(k3))
    assert not a.claim(k3)
    holder.kill()
    holder.wait()
    assert a.claim(k3)
    # call log: a start and its end merge into one call; another settings hash is not listed
    a.log_call({"pid": 1, "call": "t0", "command": "harmony benchmark x"})
    b.log_call({"pid": 2, "call": "t1", "command": "harmony benchmark y"})
    a.log_call({"pid": 1, "call": "t0", "ended": "t2", "cells_run": 3})
    ResultStore(path, "other").log_call({"pid": 3, "call": "t3"})
    calls = sorted(a.calls(), key=lambda c: c["pid"])
    assert [(c["pid"], c.get("cells_run")) for c in calls] == [(1, 3), (2, None)]


_WORKER = """import sys, time
from pathlib import Path
from harmony_mol.benchmark.results import ResultStore
st = ResultStore(Path(sys.argv[1]), "h", claims_dir=Path(sys.argv[2]))
for seed in range(30):
    if st.claim(("bbbp", "-", "scaffold", seed, "rf")):
        time.sleep(0.02)  # a cell takes a while, so the two workers overlap
        st.add({"dataset": "bbbp", "preset": "-", "split": "scaffold", "seed": seed, "model": "rf", "test": 0.5})
"""


def test_result_store_two_worker_processes_run_each_cell_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    path, claims = tmp_path / "results.csv", tmp_path / "claims"
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, str(path), str(claims)]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    rows = ResultStore(path, "h").rows
    assert sorted(r["seed"] for r in rows) == list(range(30))  # every cell once, no row lost in the merges


def test_gin_encoder_shapes_and_rebuild() -> None:
    from harmony_mol.config import config_to_dict
    from harmony_mol.models.registry import build_encoder, encoder_config_from_dict
    from harmony_mol.nn.encoder_config import GINEncoderConfig
    from harmony_mol.nn.gin import GINEncoder
    from harmony_mol.nn.inputs import InputDims

    dims = InputDims((10, 4), 3, (5,), 2)
    enc = GINEncoder(GINEncoderConfig(hidden_dim=16, num_layers=3), dims)
    b = SimpleNamespace(x=torch.tensor([[1, 0], [2, 1], [3, 3]]), x_feat=torch.randn(3, 3),
                        edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]),
                        edge_attr=torch.tensor([[1], [1], [2], [2]]), edge_feat=torch.randn(4, 2))
    enc.eval()
    h = enc(b)
    assert h.shape == (3, 16)
    again = build_encoder(config_to_dict(enc.cfg), dims.to_dict())
    again.load_state_dict(enc.state_dict())
    again.eval()
    assert torch.equal(again(b), h)
    # attribute masking (positive control): an empty mask changes nothing, a masked atom sees the mask vector
    assert torch.equal(enc(b, node_mask=torch.zeros(3, dtype=torch.bool)), h)
    with torch.no_grad():
        enc.mask_token.fill_(5.0)
    masked = enc(b, node_mask=torch.tensor([True, False, False]), edge_mask=torch.tensor([True, True, False, False]))
    assert not torch.allclose(masked, h)
    enc.train()  # a training batch holding one single-atom molecule (FreeSolv's methane) must not fail
    one = SimpleNamespace(x=torch.tensor([[1, 0]]), x_feat=torch.randn(1, 3),
                          edge_index=torch.zeros(2, 0, dtype=torch.long), edge_attr=torch.zeros(0, 1, dtype=torch.long),
                          edge_feat=torch.zeros(0, 2))
    assert enc(one).shape == (1, 16)
    with pytest.raises(ValueError, match=r"unknown key\(s\) width"):
        encoder_config_from_dict({"arch": "gin", "width": 3})


def test_dummy_cell_predicts_the_training_mean() -> None:
    from harmony_mol.benchmark.cells import CellData, dummy_cell

    y = np.array([[1.0], [3.0], [np.nan], [10.0], [0.0]])
    data = CellData("toy", None, "regression", "mae", ["t"], y, None)
    out = dummy_cell(data, {"train": [0, 1, 2], "valid": [3], "test": [4]})
    assert out["test"] == pytest.approx(2.0) and out["valid"] == pytest.approx(8.0)


def test_cgcnn_runs_on_crystals_only_and_its_settings_hash_there_only() -> None:
    from dataclasses import replace

    from harmony_mol.benchmark.run import _unavailable

    mol, cry = (BenchmarkConfig(suite=s, models=("cgcnn", "dummy")) for s in ("regression", "crystals"))
    assert _unavailable(mol, "molecule") == {"cgcnn": "CGCNN is a crystal model"} and _unavailable(cry, "crystal") == {}
    wide = {"cgcnn": {"hidden_dim": 128, "num_layers": 3}}
    assert settings_hash(replace(mol, **wide)) == settings_hash(mol)  # molecule suites' hashes did not move
    assert settings_hash(replace(cry, **wide)) != settings_hash(cry)
