"""build_dataset: bad rows, labels and order, cache hits, rebuilds, atomic writes, workers."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from harmony_mol.data import packing
from harmony_mol.data.build import build_dataset
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.data.store import load_dataset
from tests.data.samples import BAD_ROWS

REPO = Path(__file__).resolve().parents[2]


def _cfg(inp: Path | str, out: Path, **kw) -> FeaturizeConfig:
    base = {"inputs": (str(inp),), "output": out, "target_columns": ("label",), "shard_size": 300,
            "chunk_size": 128, "progress": False}
    base.update(kw)
    return FeaturizeConfig(**base)


def _shard_bytes(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.glob("shard-*.pt"))}


def test_bad_rows_rejected_and_labels_kept_in_order(tmp_path, mixed_csv):
    src, expected = mixed_csv
    info = build_dataset(_cfg(src, tmp_path / "ds"))
    assert not info.cache_hit
    assert info.n_graphs == 1000 and info.n_rejected == len(BAD_ROWS)
    ds = load_dataset(info.path)
    assert len(ds) == 1000 and ds.target_names == ["label"]
    assert ds.row_ids == [r for r, _, _ in expected]
    assert ds.inputs == [s for _, s, _ in expected]
    y = ds.tensors()["y"][:, 0]
    assert torch.equal(y, torch.tensor([lab for _, _, lab in expected]))
    assert float(ds[999].y) == 999.0 and int(ds[999].row_id) == expected[-1][0]
    with open(info.path / "rejected.csv", newline="") as fh:
        rej = list(csv.DictReader(fh))
    assert [int(r["row"]) for r in rej] == [p + 1 for p in sorted(BAD_ROWS)]
    assert [int(r["row_id"]) for r in rej] == sorted(BAD_ROWS)
    assert [r["input"] for r in rej] == [BAD_ROWS[p] for p in sorted(BAD_ROWS)]
    assert all(r["reason"] for r in rej)
    assert "200" in rej[-1]["reason"]  # the 500-atom chain names the limit
    manifest = json.loads((info.path / "manifest.json").read_text())
    assert manifest["counts"]["rejected"] == 5 and manifest["counts"]["graphs"] == 1000
    assert [s["n_graphs"] for s in manifest["shards"]] == [300, 300, 300, 100]


def test_cache_hit_rebuild_on_preset_change(tmp_path, mixed_csv):
    src, _ = mixed_csv
    out = tmp_path / "ds"
    first = build_dataset(_cfg(src, out))
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = build_dataset(_cfg(src, out))
    assert again.cache_hit and again.key == first.key and again.n_graphs == 1000
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before  # nothing rewritten
    assert again.seconds < first.seconds
    hu = build_dataset(_cfg(src, out, preset="hu"))
    assert not hu.cache_hit and hu.key != first.key
    assert load_dataset(out).spec.preset == "hu"
    forced = build_dataset(_cfg(src, out, preset="hu", force=True))
    assert not forced.cache_hit


def test_changed_input_bytes_rebuild(tmp_path, mixed_csv):
    src, _ = mixed_csv
    out = tmp_path / "ds"
    build_dataset(_cfg(src, out))
    with open(src, "a") as fh:
        fh.write("CCO,5.0\n")
    info = build_dataset(_cfg(src, out))
    assert not info.cache_hit and info.n_graphs == 1001


def test_workers_two_gives_identical_shards(tmp_path, mixed_csv):
    src, _ = mixed_csv
    one = build_dataset(_cfg(src, tmp_path / "w1", workers=1))
    two = build_dataset(_cfg(src, tmp_path / "w2", workers=2))
    assert one.key == two.key
    a, b = _shard_bytes(one.path), _shard_bytes(two.path)
    assert list(a) == list(b) and len(a) == 4
    for name in a:
        ta = torch.load(one.path / name, weights_only=True)
        tb = torch.load(two.path / name, weights_only=True)
        assert ta.keys() == tb.keys()
        assert all(torch.equal(ta[k], tb[k]) for k in ta)
    assert (one.path / "rejected.csv").read_text() == (two.path / "rejected.csv").read_text()


def test_error_midway_leaves_previous_dataset(tmp_path, mixed_csv, monkeypatch):
    src, _ = mixed_csv
    out = tmp_path / "ds"
    build_dataset(_cfg(src, out))
    manifest = (out / "manifest.json").read_text()
    calls = {"n": 0}
    real_add = packing.ShardWriter.add

    def boom(self, block):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash")
        real_add(self, block)

    monkeypatch.setattr(packing.ShardWriter, "add", boom)
    with pytest.raises(RuntimeError, match="simulated"):
        build_dataset(_cfg(src, out, preset="hu"))
    assert (out / "manifest.json").read_text() == manifest  # old dataset untouched
    with pytest.raises(RuntimeError, match="simulated"):
        calls["n"] = 0
        build_dataset(_cfg(src, tmp_path / "fresh"))
    assert not (tmp_path / "fresh").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


_KILL_SCRIPT = """
import sys, time
sys.path.insert(0, {repo!r})
from tests.data.stub_featurizers import ensure_featurizers
ensure_featurizers()
from harmony_mol.data import packing
from harmony_mol.data.build import build_dataset
from harmony_mol.data.config import FeaturizeConfig
real = packing.ShardWriter._flush
def slow(self):
    real(self)
    time.sleep(30)
packing.ShardWriter._flush = slow
build_dataset(FeaturizeConfig(inputs=({src!r},), output={out!r}, target_columns=("label",),
                              shard_size=100, progress=False))
"""


def test_killed_build_leaves_no_complete_dataset(tmp_path, mixed_csv):
    src, _ = mixed_csv
    out = tmp_path / "killed"
    script = _KILL_SCRIPT.format(repo=str(REPO), src=str(src), out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not list(tmp_path.glob(".killed.*.partial/shard-00000.pt")):
            if proc.poll() is not None:
                pytest.fail(f"build subprocess exited early with {proc.returncode}")
            time.sleep(0.1)
        assert list(tmp_path.glob(".killed.*.partial/shard-00000.pt")), "no shard written in time"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (out / "manifest.json").exists()
    with pytest.raises(FileNotFoundError):
        load_dataset(out)


def test_too_many_rejections_fail_with_pointer(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("smiles,label\nC1CC,1\n[Xx],2\nCCO,3\n")
    out = tmp_path / "ds"
    with pytest.raises(ValueError, match="rejected.csv"):
        build_dataset(_cfg(src, out))
    assert not out.exists()
    keep = tmp_path / "ds.rejected.csv"
    assert keep.exists() and len(keep.read_text().splitlines()) == 3
    ok = build_dataset(_cfg(src, out, max_reject_fraction=0.7))
    assert ok.n_graphs == 1 and ok.n_rejected == 2
    src.write_text("smiles,label\nC1CC,1\n")
    with pytest.raises(ValueError, match="no valid rows"):
        build_dataset(_cfg(src, tmp_path / "none", max_reject_fraction=1.0))


def test_dedupe_across_inputs_with_running_row_ids(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("smiles,label\nCCO,1\nc1ccccc1,2\nCCO,3\n")
    b.write_text("smiles,label\nCCN,4\nc1ccccc1,5\n")
    info = build_dataset(_cfg(a, tmp_path / "ds", inputs=(str(a), str(b)), dedupe=True))
    assert info.n_graphs == 3 and info.n_duplicates == 2
    ds = load_dataset(info.path)
    assert ds.row_ids == [0, 1, 3] and ds.inputs == ["CCO", "c1ccccc1", "CCN"]
    assert ds.tensors()["y"][:, 0].tolist() == [1.0, 2.0, 4.0]
    inputs = ds.manifest["inputs"]
    assert [(i["row_offset"], i["n_rows"]) for i in inputs] == [(0, 3), (3, 2)]
    with open(info.path / "duplicates.csv", newline="") as fh:
        dups = list(csv.DictReader(fh))
    assert [(int(d["row_id"]), int(d["first_row_id"])) for d in dups] == [(2, 0), (4, 1)]
    no_dedupe = build_dataset(_cfg(a, tmp_path / "ds", inputs=(str(a), str(b))))
    assert not no_dedupe.cache_hit and no_dedupe.n_graphs == 5
