"""``harmony featurize`` end to end, config files, and the dataset registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harmony_mol.cli import app
from harmony_mol.config import load_config
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.data.inputs import detect_kind
from harmony_mol.data.registry import DATASETS, GROUPS, data_dir, resolve

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_cli_featurize_summary_and_cache_hit(tmp_path, mixed_csv):
    src, _ = mixed_csv
    args = ["featurize", "--input", str(src), "--output", str(tmp_path / "ds"), "--target-column", "label",
            "--shard-size", "400", "--no-progress"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "graphs     1,000" in res.output and "rejected   5" in res.output and "built" in res.output
    res = runner.invoke(app, [*args, "--json"])
    out = json.loads(res.output.strip().splitlines()[-1])
    assert out["cache_hit"] is True and out["graphs"] == 1000 and out["rejected"] == 5


def test_cli_errors_are_messages_not_tracebacks(tmp_path):
    res = runner.invoke(app, ["featurize", "--input", str(tmp_path / "nope.csv"), "--output", str(tmp_path / "o")])
    assert res.exit_code == 1 and "neither an existing file" in res.output
    res = runner.invoke(app, ["featurize", "--output", str(tmp_path / "o")])
    assert res.exit_code != 0
    res = runner.invoke(app, ["featurize", "--input", "x.csv", "--output", "o", "--set", "no_such_key=1"])
    assert res.exit_code == 2 and "no_such_key" in res.output


def test_featurize_configs_load():
    for path in sorted((REPO / "configs" / "featurize").glob("*.yaml")):
        cfg = load_config(FeaturizeConfig, path)
        assert cfg.inputs and cfg.output is not None


def test_registry_resolves_every_dataset(shared_data):
    assert data_dir(shared_data) == shared_data
    for name in [*DATASETS, *GROUPS]:
        for r in resolve(name, shared_data):
            assert r.path.exists(), name
    corpus = resolve("pretrain-corpus", shared_data)
    assert len(corpus) == 7 and {r.smiles_column for r in corpus} == {"smiles", "SMILES"}
    assert detect_kind(shared_data / "crystals/perov_5/val.csv.gz") == "crystal"
    assert detect_kind(shared_data / "molecules/bbbp/BBBP.csv") == "molecule"
    assert detect_kind(shared_data / "crystals/jarvis_dft3d_alignn_sample") == "crystal"
    with pytest.raises(FileNotFoundError, match="known dataset"):
        resolve("no-such-dataset", shared_data)
    with pytest.raises(FileNotFoundError):
        data_dir(shared_data / "missing")


def test_registry_dataset_by_name(tmp_path, shared_data):
    cfg = FeaturizeConfig(inputs=("freesolv",), output=tmp_path / "fs", data_dir=shared_data, dedupe=True,
                          progress=False)
    from harmony_mol.data.build import build_dataset

    info = build_dataset(cfg)
    assert info.n_graphs == 642 and info.n_duplicates == 1 and info.target_names == ["expt"]


def test_speed_featurize_json_shape(shared_data):
    res = runner.invoke(app, ["speed", "featurize", "--n", "60", "--n-crystals", "4", "--skip-deepchem", "--json",
                              "--data-dir", str(shared_data)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output.strip().splitlines()[-1])
    assert set(out) == {"molecules", "crystals"}
    assert set(out["molecules"]) == {"harmony", "deepchem", "pyg"} and set(out["crystals"]) == {"harmony", "deepchem"}
    assert out["molecules"]["harmony"] > 0 and out["molecules"]["pyg"] > 0
    assert out["molecules"]["deepchem"] is None and out["crystals"]["deepchem"] is None


def test_featurize_never_replaces_a_folder_or_file_that_is_not_ours(tmp_path):
    """Issue 14 item 1: an existing folder with user files (or a file) at --output is refused, kept whole."""
    src = tmp_path / "m.csv"
    src.write_text("smiles,y\nCCO,1\nCCN,2\n")
    mine = tmp_path / "d"
    mine.mkdir()
    (mine / "precious.txt").write_text("x")
    res = runner.invoke(app, ["featurize", "-i", str(src), "-o", str(mine), "-t", "y", "--no-progress"])
    assert res.exit_code == 1 and "refusing to replace" in res.output and str(mine) in res.output
    assert (mine / "precious.txt").read_text() == "x" and sorted(p.name for p in mine.iterdir()) == ["precious.txt"]
    afile = tmp_path / "f"
    afile.write_text("keep")
    res = runner.invoke(app, ["featurize", "-i", str(src), "-o", str(afile), "-t", "y", "--no-progress"])
    assert res.exit_code == 1 and afile.read_text() == "keep"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    empty = tmp_path / "e"
    empty.mkdir()
    res = runner.invoke(app, ["featurize", "-i", str(src), "-o", str(empty), "-t", "y", "--no-progress"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["featurize", "-i", str(src), "-o", str(empty), "-t", "y", "--no-progress", "--force"])
    assert res.exit_code == 0 and (empty / "manifest.json").is_file()  # ours: rebuilt in place
