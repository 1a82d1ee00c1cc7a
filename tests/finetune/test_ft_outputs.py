"""A fine-tuning run says what it started from and which split it used.

It saves the split (``splits.json``) and the test-set predictions (``test_predictions.csv``) beside ``model.pt``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from harmony_mol.cli import app
from harmony_mol.config import load_config
from harmony_mol.data.splits import load_split
from harmony_mol.finetune import train as train_mod
from harmony_mol.finetune.config import FinetuneConfig

from .conftest import SMILES16, TINY_ENCODER, TinyDataset, heavy_atoms

ENC = "model.encoder={hidden_dim: 16, wgcn_hidden: 16, mlp_hidden: 16, heads: 2, edge_dim: 8, gate_hidden: 4}"


def _cfg(tmp_path: Path, **over: object) -> FinetuneConfig:
    base = {"name": "t", "out_dir": str(tmp_path), "data": {"input": "tiny"},
            "split": {"method": "random", "fractions": [0.5, 0.25, 0.25]},
            "model": {"encoder": TINY_ENCODER, "head_hidden": 16},
            "optim": {"epochs": 2, "batch_size": 8}, "plots": False}
    return load_config(FinetuneConfig, None, {**base, **over})


def test_finetune_writes_splits_and_test_predictions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     tiny_regression: TinyDataset,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    tiny_regression.row_ids = [r + 100 for r in tiny_regression.row_ids]  # row ids, not dataset indices
    tiny_regression.tensors()["row_id"] += 100
    monkeypatch.setattr(train_mod, "resolve_dataset", lambda cfg, spec: tiny_regression)
    with caplog.at_level(logging.INFO, logger="harmony_mol"):
        res = train_mod.finetune(_cfg(tmp_path, seeds=[0, 1]))
    assert "encoder: from scratch" in caplog.text and "split: random" in caplog.text
    sp = json.loads((res.out_dir / "splits.json").read_text())
    assert sp["format"] == "harmony-split/1" and sp["meta"]["method"] == "random" and sp["meta"]["seed"] == 0
    assert sorted(sp["train"] + sp["valid"] + sp["test"]) == list(range(100, 116))
    assert set(sp["per_seed"]) == {"0", "1"} and sp["per_seed"]["0"]["test"] == sp["test"]
    assert sp["per_seed"]["0"] != sp["per_seed"]["1"]  # random splits vary with the seed
    # the file is a valid --split-file for the same data
    assert load_split(res.out_dir / "splits.json", tiny_regression).test == \
        sorted(tiny_regression.row_ids.index(r) for r in sp["test"])
    tp = pd.read_csv(res.out_dir / "test_predictions.csv")
    assert list(tp.columns) == ["seed", "row_id", "id", "input", "n_heavy", "n_heavy_pred", "mod3", "mod3_pred"]
    assert len(tp) == len(sp["per_seed"]["0"]["test"]) + len(sp["per_seed"]["1"]["test"])
    metrics = json.loads((res.out_dir / "metrics.json").read_text())
    assert metrics["encoder"] == {"pretrained": None, "which": None, "arch": "harmony", "lr_mult": 1.0}
    assert metrics["split"]["method"] == "random" and metrics["n_test_dropped"] == 0
    for seed in (0, 1):
        part = tp[tp["seed"] == seed]
        assert part["row_id"].tolist() == sp["per_seed"][str(seed)]["test"]
        assert part["input"].tolist() == [SMILES16[r - 100] for r in part["row_id"]]
        assert np.allclose(part["n_heavy"], heavy_atoms(SMILES16)[part["row_id"] - 100])
        rmse = float(np.sqrt(np.mean((part["n_heavy"] - part["n_heavy_pred"]) ** 2)))
        assert rmse == pytest.approx(metrics["per_seed"][str(seed)]["test"]["rmse"]["n_heavy"], rel=1e-6)


def test_crystal_scaffold_falls_back_to_random_and_predict_keeps_id_prop_values(shared_data: Path,
                                                                               tmp_path: Path) -> None:
    folder = shared_data / "crystals" / "cgcnn_sample_regression"
    runner = CliRunner()
    res = runner.invoke(app, [
        "finetune", "-i", str(folder), "--epochs", "1", "--out-dir", str(tmp_path / "ft"), "--name", "x",
        "--set", f"data.cache_dir={tmp_path / 'ds'}", "--set", ENC, "--set", "optim.batch_size=4",
        "--set", "plots=false", "--set", "threads=1",
    ])
    assert res.exit_code == 0, res.output
    run = tmp_path / "ft" / "x"
    assert yaml.safe_load((run / "config.yaml").read_text())["split"]["method"] == "random"
    assert "split      random (asked for scaffold" in res.output
    assert "encoder    from scratch" in res.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["split"] == {**metrics["split"], "method": "random", "requested": "scaffold"}
    assert (run / "splits.json").is_file() and (run / "test_predictions.csv").is_file()
    ids = pd.read_csv(folder / "id_prop.csv", header=None, dtype=str)
    out = tmp_path / "p.csv"
    res = runner.invoke(app, ["predict", "-m", str(run / "model.pt"), "-i", str(folder), "-o", str(out),
                              "--no-progress"])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df.columns) == ["row_id", "id", "target", "target_pred", "error"]
    assert np.allclose(df["target"].astype(float), ids[1].astype(float))  # the measured value is kept


def test_split_file_counts_dropped_test_rows(tmp_path: Path) -> None:
    smiles = SMILES16 + ["C1CC", "c1cccc1"]  # rows 16 and 17 are rejected by the featurizer
    src = tmp_path / "train.csv"
    pd.DataFrame({"smiles": smiles, "y": list(heavy_atoms(SMILES16)) + [3.0, 5.0]}).to_csv(src, index=False)
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"format": "harmony-split/1", "train": list(range(10)), "valid": [10, 11, 12],
                                 "test": [13, 14, 15, 16, 17]}))
    res = CliRunner().invoke(app, [
        "finetune", "-i", str(src), "-t", "y", "--split-file", str(split), "--epochs", "1",
        "--out-dir", str(tmp_path / "ft"), "--name", "f", "--set", f"data.cache_dir={tmp_path / 'ds'}",
        "--set", ENC, "--set", "plots=false", "--set", "threads=1",
    ])
    assert res.exit_code == 0, res.output
    assert "2 test rows dropped" in res.output
    run = tmp_path / "ft" / "f"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n_test_dropped"] == 2 and metrics["split"]["dropped"] == {"train": 0, "valid": 0, "test": 2}
    assert metrics["per_seed"]["0"]["test"]["n"] == 3
    saved = json.loads((run / "splits.json").read_text())
    assert saved["test"] == [13, 14, 15] and saved["train"] == list(range(10))
    tp = pd.read_csv(run / "test_predictions.csv")
    assert tp["row_id"].tolist() == [13, 14, 15] and tp["input"].tolist() == SMILES16[13:16]
