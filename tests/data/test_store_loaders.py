"""GraphDataset (lazy load, PyG DataLoader) and FastGraphLoader (== Batch.from_data_list, seeding, resume)."""

from __future__ import annotations

import torch
from torch_geometric.data import Batch

from harmony_mol.data.build import build_dataset
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.data.loaders import FastGraphLoader, make_pyg_loader
from harmony_mol.data.store import load_dataset

FIELDS = ("x", "x_feat", "edge_index", "edge_attr", "edge_feat", "y", "row_id", "batch", "ptr")


def _dataset(tmp_path, moses_smiles, n=200):
    src = tmp_path / "m.csv"
    src.write_text("smiles,a,b\n" + "".join(f"{s},{i},{'' if i % 3 else -i}\n"
                                            for i, s in enumerate(moses_smiles[:n])))
    info = build_dataset(FeaturizeConfig(inputs=(str(src),), output=tmp_path / "ds", target_columns=("a", "b"),
                                         shard_size=64, chunk_size=50, progress=False))
    return load_dataset(info.path)


def test_lazy_open_and_records_follow_schema(tmp_path, moses_smiles):
    from featurizers.schema import validate_record

    ds = _dataset(tmp_path, moses_smiles)
    fresh = load_dataset(ds.path)
    assert fresh._shards == {}  # opening reads only the manifest
    d = fresh[130]
    assert list(fresh._shards) == [2]  # only the shard holding graph 130 was opened
    validate_record(d, fresh.spec)
    assert d.x.dtype == torch.long and d.y.shape == (1, 2) and int(d.row_id) == 130
    assert torch.isnan(fresh[1].y[0, 1]) and float(fresh[3].y[0, 1]) == -3.0
    assert len(fresh) == 200 and fresh.row_ids == list(range(200))
    assert fresh[-1].row_id.item() == 199


def test_pyg_dataloader_keeps_labels_in_order(tmp_path, moses_smiles):
    ds = _dataset(tmp_path, moses_smiles)
    ys = torch.cat([b.y for b in make_pyg_loader(ds, batch_size=32)])
    assert ys.shape == (200, 2)
    assert torch.equal(ys[:, 0], torch.arange(200, dtype=torch.float32))
    order1 = torch.cat([b.row_id for b in make_pyg_loader(ds, 32, shuffle=True, seed=3)])
    order2 = torch.cat([b.row_id for b in make_pyg_loader(ds, 32, shuffle=True, seed=3)])
    assert torch.equal(order1, order2) and not torch.equal(order1, torch.arange(200))
    sub = torch.cat([b.row_id for b in make_pyg_loader(ds, 8, indices=[5, 7, 9])])
    assert sub.tolist() == [5, 7, 9]


def test_fast_loader_equals_batch_from_data_list(tmp_path, moses_smiles):
    ds = _dataset(tmp_path, moses_smiles)
    loader = FastGraphLoader(ds, batch_size=48, shuffle=True, seed=7)
    seen = []
    for batch in loader:
        idx = batch.graph_index.tolist()
        seen += idx
        ref = Batch.from_data_list([ds[i] for i in idx])
        for f in FIELDS:
            a, b = getattr(batch, f), getattr(ref, f)
            assert a.dtype == b.dtype, f
            assert torch.equal(torch.nan_to_num(a, nan=-9.0), torch.nan_to_num(b, nan=-9.0)), f
        assert batch.num_graphs == ref.num_graphs
        first = batch.get_example(0)
        assert torch.equal(first.edge_index, ds[idx[0]].edge_index)
    assert sorted(seen) == list(range(200)) and len(loader) == 5


def test_fast_loader_epochs_resume_subset_drop_last(tmp_path, moses_smiles):
    ds = _dataset(tmp_path, moses_smiles)
    loader = FastGraphLoader(ds, batch_size=30, shuffle=True, seed=1)
    e0 = [b.graph_index.tolist() for b in loader]
    e1 = [b.graph_index.tolist() for b in loader]  # the epoch advanced by itself
    assert e0 != e1
    loader.set_epoch(1, start_batch=3)
    assert [b.graph_index.tolist() for b in loader] == e1[3:]
    again = FastGraphLoader(ds.tensors(), batch_size=30, shuffle=True, seed=1)
    assert [b.graph_index.tolist() for b in again] == e0
    sub = FastGraphLoader(ds, batch_size=4, indices=[10, 2, 5, 7, 9], drop_last=True)
    assert [b.row_id.tolist() for b in sub] == [[10, 2, 5, 7]]
