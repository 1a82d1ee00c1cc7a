from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from harmony_mol.config import load_config
from harmony_mol.finetune import train as train_mod
from harmony_mol.finetune.config import FinetuneConfig
from harmony_mol.models.io import BundleError, load_bundle, save_bundle
from harmony_mol.predict.api import Predictor

from .conftest import SMILES16, TINY_ENCODER, TinyDataset

BAD = ["not_a_smiles((", "", "C1CC", "[Xx]", "c1cccc1"]


@pytest.fixture()
def bundles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_regression: TinyDataset) -> list[Path]:
    monkeypatch.setattr(train_mod, "resolve_dataset", lambda cfg, spec: tiny_regression)
    out = []
    for seeds in ([0], [1, 2]):
        cfg = load_config(FinetuneConfig, None, {
            "name": f"m{seeds[0]}", "out_dir": str(tmp_path), "data": {"input": "tiny"}, "seeds": seeds,
            "split": {"method": "random", "fractions": [0.5, 0.25, 0.25]}, "plots": False,
            "model": {"encoder": TINY_ENCODER, "head_hidden": 16},
            "optim": {"epochs": 2, "batch_size": 8}})
        out.append(train_mod.finetune(cfg).bundle_path)
    return out


def _mixed(n_good: int = 40) -> list[str]:
    good = (SMILES16 * 3)[:n_good]
    mixed = []
    for i, s in enumerate(good):
        mixed.append(s)
        if i % 7 == 3:
            mixed.append(BAD[(i // 7) % len(BAD)])
    return mixed


def test_predict_keeps_order_count_and_errors(bundles: list[Path]) -> None:
    pred = Predictor.load(bundles[0], batch_size=7)
    inputs = _mixed()
    df = pred.predict(inputs)
    assert len(df) == len(inputs) and df["input"].tolist() == inputs
    bad = df["input"].isin(BAD)
    assert bad.sum() == sum(s in BAD for s in inputs) and bad.sum() >= 5
    assert (df.loc[bad, "error"] != "").all() and df.loc[bad, ["n_heavy_pred", "mod3_pred"]].isna().all().all()
    assert (df.loc[~bad, "error"] == "").all() and df.loc[~bad, ["n_heavy_pred", "mod3_pred"]].notna().all().all()
    # same molecule -> same prediction wherever it sits and whatever the batch composition
    alone = pred.predict(["CCO"])["n_heavy_pred"].iloc[0]
    assert np.allclose(df.loc[df["input"] == "CCO", "n_heavy_pred"], alone, atol=1e-5)
    assert "n_heavy_std" not in df.columns


def test_ensemble_mean_and_std(bundles: list[Path]) -> None:
    ens = Predictor.load(bundles)  # 1 + 2 members
    assert len(ens.members) == 3 and ens.is_ensemble
    df = ens.predict(SMILES16[:5] + ["bad(("])
    singles = []
    for path in bundles:
        b = load_bundle(path)
        for i in range(len(b.members)):
            one = type(b)(**{**b.__dict__, "members": [b.members[i]]})
            singles.append(Predictor(one).predict(SMILES16[:5])["n_heavy_pred"].to_numpy())
    stack = np.stack(singles)
    assert np.allclose(df["n_heavy_pred"].iloc[:5], stack.mean(0), atol=1e-5)
    assert np.allclose(df["n_heavy_std"].iloc[:5], stack.std(0), atol=1e-5)
    assert np.isnan(df["n_heavy_std"].iloc[5]) and df["error"].iloc[5]


def test_predict_file_streams_all_columns(bundles: list[Path], tmp_path: Path) -> None:
    inputs = _mixed(30)
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": [f"m{i:03d}" for i in range(len(inputs))], "SMILES": inputs,
                  "note": ["x, \"quoted\"" if i % 5 == 0 else "" for i in range(len(inputs))]}).to_csv(src, index=False)
    out = tmp_path / "out" / "preds.csv"
    for workers in (1, 2):
        pred = Predictor.load(bundles[0], workers=workers, batch_size=4)
        stats = pred.predict_file(src, out, chunk_size=9)
        df = pd.read_csv(out, dtype={"note": str}, keep_default_na=False)
        assert stats.n_rows == len(inputs) == len(df)
        assert df["id"].tolist() == [f"m{i:03d}" for i in range(len(inputs))]
        assert df["SMILES"].tolist() == inputs and list(df.columns[:3]) == ["id", "SMILES", "note"]
        assert df["note"].iloc[0] == "x, \"quoted\""
        assert stats.n_failed == sum(s in BAD for s in inputs) == int((df["error"] != "").sum())
        ref = pred.predict(inputs)
        got = pd.to_numeric(df["n_heavy_pred"], errors="coerce").to_numpy()
        assert np.allclose(got, ref["n_heavy_pred"].to_numpy(), atol=1e-5, equal_nan=True)
    assert not list(out.parent.glob(".*.tmp"))


def test_embed_file_npy_and_csv(bundles: list[Path], tmp_path: Path) -> None:
    src = tmp_path / "in.smi"
    inputs = ["CCO", "bad((", "c1ccccc1"]
    src.write_text("".join(f"{s} name{i}\n" for i, s in enumerate(inputs)))
    pred = Predictor.load(bundles[0])
    pred.embed_file(src, tmp_path / "e.npy")
    emb = np.load(tmp_path / "e.npy")
    assert emb.shape == (3, pred.members[0].readout.out_dim)
    assert np.isnan(emb[1]).all() and np.isfinite(emb[[0, 2]]).all()
    errs = pd.read_csv(tmp_path / "e.errors.csv")
    assert errs["index"].tolist() == [1]
    pred.embed_file(src, tmp_path / "e.csv")
    df = pd.read_csv(tmp_path / "e.csv", keep_default_na=False)
    assert df["name"].tolist() == ["name0", "name1", "name2"] and df["error"].iloc[1]
    with pytest.raises(ValueError, match="must end in"):
        pred.embed_file(src, tmp_path / "e.h5")


def test_spec_mismatch_is_refused(bundles: list[Path], tmp_path: Path) -> None:
    b = load_bundle(bundles[0])
    b.featurizer_spec = {**b.featurizer_spec, "preset": "martian"}
    p = save_bundle(b, tmp_path / "bad.pt")
    with pytest.raises(BundleError, match="featurizer"):
        Predictor.load(p)
    b.featurizer_spec = {**b.featurizer_spec, "preset": "harmony", "atom_float_dim": 99}
    p = save_bundle(b, tmp_path / "bad2.pt")
    with pytest.raises(BundleError, match="trained on features"):
        Predictor.load(p)
    assert torch.load(bundles[0], weights_only=True)["kind"] == "harmony-model"


def test_predict_never_overwrites_an_input_column_named_like_the_target(bundles: list[Path], tmp_path: Path) -> None:
    """Issue 14 item 2: a measured ``n_heavy`` column is kept; predictions go to ``n_heavy_pred``."""
    src = tmp_path / "in.csv"
    pd.DataFrame({"smiles": ["CCO", "c1ccccc1", "bad(("], "n_heavy": ["3.0", "measured", ""]}).to_csv(src, index=False)
    out = tmp_path / "p.csv"
    Predictor.load(bundles[1]).predict_file(src, out, progress=False)
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert df["n_heavy"].tolist() == ["3.0", "measured", ""]
    assert list(df.columns) == ["smiles", "n_heavy", "n_heavy_pred", "n_heavy_std", "mod3_pred", "mod3_std", "error"]
    again = tmp_path / "again.csv"
    with pytest.raises(ValueError, match=r"already has column\(s\) \['n_heavy_pred'"):
        Predictor.load(bundles[1]).predict_file(out, again, progress=False)
    assert not again.exists()


def test_predict_csv_round_trips_bare_cr_and_bad_bytes(bundles: list[Path], tmp_path: Path) -> None:
    """Issue 14 items 6 and 7: bare CR / LF fields and an undecodable byte.

    Fields with a bare CR or LF read back as one row in pandas and csv; one undecodable byte flags its row
    and the others are predicted.
    """
    import csv

    src = tmp_path / "in.csv"
    rows = [["CCO", "a\rb"], ["C\rC", "x"], ["CCN", "p\nq"], ["c1ccccc1", "ok"]]
    with open(src, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["smiles", "note"])
        w.writerows(rows)
    with open(src, "ab") as fh:
        fh.write(b"C\xffC,bad byte\r\nCCCC,last\r\n")
    out = tmp_path / "p.csv"
    stats = Predictor.load(bundles[0]).predict_file(src, out, progress=False)
    assert stats.n_rows == 6
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    with open(out, newline="", encoding="utf-8") as fh:
        back = list(csv.reader(fh))
    assert len(df) == len(back) - 1 == 6
    assert df["note"].tolist()[:4] == [r[1] for r in rows] and df["smiles"].tolist()[:4] == [r[0] for r in rows]
    assert "invalid UTF-8 byte 0xFF" in df["error"].iloc[4] and df["smiles"].iloc[4] == "C\ufffdC"
    assert "carriage return" in df["error"].iloc[1]
    assert df["error"].iloc[5] == "" and df["n_heavy_pred"].iloc[5] != ""
    assert (out.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask() -> int:
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_predict_output_errors_are_one_line(bundles: list[Path], tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("name,value\na,CCO\n")
    pred = Predictor.load(bundles[0])
    with pytest.raises(ValueError, match="no SMILES column found"):
        pred.predict_file(src, tmp_path / "p.csv", progress=False)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty.csv: empty file"):
        pred.predict_file(tmp_path / "empty.csv", tmp_path / "p.csv", progress=False)
    src.write_text("smiles\nCCO\n")
    with pytest.raises(ValueError, match="is a folder"):
        pred.predict_file(src, tmp_path, progress=False)
