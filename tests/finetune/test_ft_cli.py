"""CLI adapters end to end on a tiny raw CSV (featurized through the data layer)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from harmony_mol.cli import app

from .conftest import SMILES16, heavy_atoms

ENC = "model.encoder={hidden_dim: 16, wgcn_hidden: 16, mlp_hidden: 16, heads: 2, edge_dim: 8, gate_hidden: 4}"


def test_finetune_predict_embed_cli(tmp_path: Path) -> None:
    smiles = SMILES16 + ["C1CC", "CCCl", "CCBr", "OCC(O)CO"]  # one unparseable row
    y = list(heavy_atoms(SMILES16)) + [0.0, 3.0, 3.0, 6.0]
    src = tmp_path / "train.csv"
    pd.DataFrame({"smiles": smiles, "n_heavy": y}).to_csv(src, index=False)
    runner = CliRunner()
    res = runner.invoke(app, [
        "finetune", "--input", str(src), "-t", "n_heavy", "--split", "random", "--epochs", "2",
        "--out-dir", str(tmp_path / "ft"), "--name", "cli", "--seed", "0", "--seed", "1",
        "--set", f"data.cache_dir={tmp_path / 'ds'}", "--set", ENC, "--set", "optim.batch_size=8",
        "--set", "split.fractions=[0.6, 0.2, 0.2]", "--set", "threads=1", "--json",
    ])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output.strip().splitlines()[-1])
    bundle = Path(summary["bundle"])
    assert bundle.is_file() and summary["task_type"] == "regression"
    assert (tmp_path / "ft" / "cli" / "plots" / "learning_curves.png").is_file()
    rejected = pd.read_csv(next((tmp_path / "ds").glob("train-*")) / "rejected.csv")
    assert rejected["input"].tolist() == ["C1CC"]

    inp = tmp_path / "screen.csv"
    pd.DataFrame({"name": ["a", "b", "c"], "smiles": ["CCO", "xx((", "c1ccccc1"]}).to_csv(inp, index=False)
    res = runner.invoke(app, ["predict", "-m", str(bundle), "-i", str(inp), "-o", str(tmp_path / "p.csv"),
                              "--no-progress"])
    assert res.exit_code == 0, res.output
    out = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
    assert out["name"].tolist() == ["a", "b", "c"] and out["error"].iloc[1] and not out["error"].iloc[0]
    assert "n_heavy_std" in out.columns  # two seeds -> ensemble

    res = runner.invoke(app, ["embed", "-m", str(bundle), "-i", str(inp), "-o", str(tmp_path / "e.npy")])
    assert res.exit_code == 0, res.output
    assert np.load(tmp_path / "e.npy").shape[0] == 3

    res = runner.invoke(app, ["predict", "-m", str(src), "-i", str(inp), "-o", str(tmp_path / "x.csv")])
    assert res.exit_code == 1 and "cannot be read as a model bundle" in res.output


def test_unreadable_files_give_one_line_errors(tmp_path: Path) -> None:
    """Issue 14 item 10: empty / truncated checkpoints and empty CSVs are one line naming the file, no traceback."""
    runner = CliRunner()
    src = tmp_path / "train.csv"
    pd.DataFrame({"smiles": SMILES16, "y": list(heavy_atoms(SMILES16))}).to_csv(src, index=False)
    empty = tmp_path / "enc.pt"
    empty.write_bytes(b"")
    trunc = tmp_path / "trunc.pt"
    trunc.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    cases = [
        ["finetune", "-i", str(src), "-t", "y", "--pretrained", str(empty), "--out-dir", str(tmp_path / "ft")],
        ["embed", "--encoder", str(trunc), "-i", str(src), "-o", str(tmp_path / "e.npy")],
        ["predict", "-m", str(trunc), "-i", str(src), "-o", str(tmp_path / "p.csv")],
    ]
    for args in cases:
        res = runner.invoke(app, args)
        assert res.exit_code == 1, (args, res.output)
        assert res.output.startswith("error: ") and "Traceback" not in res.output and "Aborted" not in res.output
        assert len(res.output.strip().splitlines()) == 1, res.output
        assert str(empty.name if "finetune" in args else trunc.name) in res.output, res.output
    (tmp_path / "empty.csv").write_text("")
    res = runner.invoke(app, ["featurize", "-i", str(tmp_path / "empty.csv"), "-o", str(tmp_path / "d")])
    assert res.exit_code == 1 and "empty.csv" in res.output and len(res.output.strip().splitlines()) == 1


def test_rejected_label_row_shows_the_smiles(tmp_path: Path) -> None:
    src = tmp_path / "m.csv"
    src.write_text("smiles,y\nCCO,1\nCCN,abc\nCCC,3\n")
    res = CliRunner().invoke(app, ["featurize", "-i", str(src), "-o", str(tmp_path / "d"), "-t", "y", "--no-progress",
                                   "--set", "max_reject_fraction=0.5"])
    assert res.exit_code == 0, res.output
    rej = pd.read_csv(tmp_path / "d" / "rejected.csv")
    assert rej["input"].tolist() == ["CCN"] and "non-numeric target 'abc'" in rej["reason"].iloc[0]
