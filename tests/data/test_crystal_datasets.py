"""Crystal datasets through the store: folders with id_prop.csv, CIF-string CSVs, extras (edge_dist)."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from torch_geometric.data import Batch

from harmony_mol.data.build import build_dataset
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.data.loaders import FastGraphLoader
from harmony_mol.data.store import load_dataset
from tests.data.stub_featurizers import STUBBED


@pytest.fixture(autouse=True)
def _need_crystal_featurizer():
    if "featurizers.readers" in STUBBED or importlib.util.find_spec("featurizers.crystal") is None:
        pytest.skip("H1's crystal featurizer / readers are not in the tree yet")


def test_jarvis_folder_and_extras(tmp_path, shared_data):
    info = build_dataset(FeaturizeConfig(inputs=("jarvis-sample",), output=tmp_path / "j", data_dir=shared_data,
                                         progress=False, workers=2, chunk_size=8))
    assert info.n_graphs + info.n_rejected == 50 and info.n_graphs >= 45
    ds = load_dataset(info.path)
    assert ds.spec.kind == "crystal" and len(ds.target_names) == 1
    d = ds[0]
    assert d.x_feat.dtype == torch.float32 and d.edge_feat.size(1) == ds.spec.edge_float_dim
    extras = [k for k in ("edge_dist", "edge_vec") if k in d]
    for k in extras:
        assert d[k].size(0) == d.edge_index.size(1)
    idx = [3, 0, 7]
    ref = Batch.from_data_list([ds[i] for i in idx])
    got = next(iter(FastGraphLoader(ds, batch_size=3, indices=idx)))
    for f in ("x", "x_feat", "edge_index", "edge_attr", "edge_feat", "y", "batch", *extras):
        assert torch.equal(getattr(got, f), getattr(ref, f)), f


def test_perovskite_csv_of_cif_strings(tmp_path, shared_data):
    import gzip

    src = tmp_path / "perov_small.csv"
    with gzip.open(shared_data / "crystals/perov_5/val.csv.gz", "rt") as fh:
        text = fh.read()
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(text)))[:40]
    with open(src, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["material_id", "cif", "heat_ref"])
        w.writeheader()
        for r in rows:
            w.writerow({"material_id": r["material_id"], "cif": r["cif"], "heat_ref": r["heat_ref"]})
        w.writerow({"material_id": "broken", "cif": "data_x\nnot a cif", "heat_ref": "1.0"})
    info = build_dataset(FeaturizeConfig(inputs=(str(src),), output=tmp_path / "p", cif_column="cif",
                                         id_column="material_id", target_columns=("heat_ref",), progress=False))
    assert info.n_graphs == 40 and info.n_rejected == 1
    ds = load_dataset(info.path)
    assert ds.ids[:3] == [r["material_id"] for r in rows[:3]]
    assert torch.allclose(ds.tensors()["y"][:, 0], torch.tensor([float(r["heat_ref"]) for r in rows]))
