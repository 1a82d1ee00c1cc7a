"""Node-classification loaders on the real shared files (shapes, classes, splits, known warts)."""

from __future__ import annotations

import io
import pickle

import pytest
import torch

from harmony_mol.benchmark.nodes import raw_formats
from harmony_mol.benchmark.nodes.datasets import DatasetUnavailable, cornell_texas_identical, load_node_dataset


@pytest.mark.parametrize(
    ("name", "n", "f", "c", "splits", "sizes"),
    [
        ("cornell", 183, 1703, 5, 10, (87, 59, 37)),
        ("texas", 183, 1703, 5, 10, (87, 59, 37)),
        ("wisconsin", 251, 1703, 5, 10, (120, 80, 51)),
        ("cora", 2708, 1433, 7, 1, (140, 500, 1000)),
        ("citeseer", 3327, 3703, 6, 1, (120, 500, 1000)),
        ("chameleon-filtered", 890, 2325, 5, 10, None),
    ],
)
def test_loader_shapes_and_splits(shared_data, name, n, f, c, splits, sizes) -> None:
    ds = load_node_dataset(name, root=shared_data)
    assert ds.x.shape == (n, f) and ds.x.dtype == torch.float32
    assert ds.y.shape == (n,) and ds.num_classes == c
    assert ds.train_masks.shape == (splits, n) and ds.num_splits == splits
    assert ds.edge_index.dtype == torch.long and int(ds.edge_index.max()) < n
    assert not bool((ds.edge_index[0] == ds.edge_index[1]).any()), "self-loops must be removed"
    # train/val/test are disjoint in every split
    overlap = (ds.train_masks & ds.val_masks) | (ds.train_masks & ds.test_masks) | (ds.val_masks & ds.test_masks)
    assert not bool(overlap.any())
    if sizes is not None:
        got = (int(ds.train_masks[0].sum()), int(ds.val_masks[0].sum()), int(ds.test_masks[0].sum()))
        assert got == sizes


def test_planetoid_matches_pyg_statistics(shared_data) -> None:
    cora = load_node_dataset("cora", root=shared_data)
    assert cora.edge_index.shape[1] == 10556  # PyG's documented, symmetrised edge count
    assert torch.bincount(cora.y).tolist() == [351, 217, 418, 818, 426, 298, 180]
    cite = load_node_dataset("citeseer", root=shared_data)
    assert cite.edge_index.shape[1] == 9104
    # the isolated test nodes are zero-padded rows (PyG's fix) and never in a mask
    pad = cite.x.sum(1) == 0
    assert int(pad.sum()) >= 15 and not bool((pad & cite.test_masks[0]).any())


def test_geom_gcn_graphs_directed_unless_asked(shared_data) -> None:
    d = load_node_dataset("texas", root=shared_data)
    u = load_node_dataset("texas", root=shared_data, to_undirected=True)
    assert u.edge_index.shape[1] > d.edge_index.shape[1]
    a = load_node_dataset("actor", root=shared_data)
    assert a.x.shape == (7600, 932) and a.num_classes == 5
    assert (int(a.train_masks[0].sum()), int(a.val_masks[0].sum()), int(a.test_masks[0].sum())) == (3648, 2432, 1520)


def test_cornell_texas_duplicate_detected(shared_data, caplog) -> None:
    assert cornell_texas_identical(shared_data) is True
    with caplog.at_level("WARNING"):
        cornell = load_node_dataset("cornell", root=shared_data)
    assert "identical" in caplog.text
    texas = load_node_dataset("texas", root=shared_data)
    assert torch.equal(cornell.x, texas.x) and torch.equal(cornell.y, texas.y)
    assert cornell.meta["cornell_texas_features_identical"] is True
    plat = load_node_dataset("cornell-platonov", root=shared_data)
    assert not torch.equal(plat.y, texas.y)
    assert torch.equal(plat.train_masks, cornell.train_masks)  # same Geom-GCN split files


def test_missing_files_give_clear_errors(shared_data) -> None:
    with pytest.raises(DatasetUnavailable, match="ind.pubmed.allx"):
        load_node_dataset("pubmed", root=shared_data)
    with pytest.raises(DatasetUnavailable, match="heterophilous-graphs"):
        load_node_dataset("roman-empire", root=shared_data)
    with pytest.raises(DatasetUnavailable, match="snap.stanford.edu"):
        load_node_dataset("ogbn-arxiv", root=shared_data)
    with pytest.raises(ValueError, match="unknown node dataset"):
        load_node_dataset("not-a-graph", root=shared_data)


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_restricted_unpickler_refuses_other_globals(tmp_path) -> None:
    path = tmp_path / "ind.evil.x"
    path.write_bytes(pickle.dumps(_Evil(), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"\.print \(not whitelisted"):
        raw_formats.restricted_load(path)
    ok = tmp_path / "ind.ok.y"
    import collections

    ok.write_bytes(pickle.dumps(collections.defaultdict(list, {0: [1, 2]}), protocol=2))
    assert raw_formats.restricted_load(ok)[0] == [1, 2]
    with pytest.raises(pickle.UnpicklingError):
        raw_formats.RestrictedUnpickler(io.BytesIO(pickle.dumps(io.StringIO, protocol=2))).load()
