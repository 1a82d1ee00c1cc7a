"""ShardWriter: exact graph-count shards, byte-budget shards, identical content either way."""

from __future__ import annotations

import numpy as np
import torch

from featurizers.batch import pack_arrays
from featurizers.items import RawItem
from harmony_mol.data.packing import ShardWriter


def _graph(n: int, e: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"x": rng.integers(0, 5, (n, 2)).astype(np.int16), "x_feat": rng.random((n, 3), dtype=np.float32),
            "edge_index": rng.integers(0, n, (2, e)).astype(np.int32), "edge_attr": np.zeros((e, 0), np.int8),
            "edge_feat": rng.random((e, 4), dtype=np.float32), "edge_dist": rng.random(e, dtype=np.float32)}


def _blocks() -> list[dict[str, np.ndarray]]:
    graphs = [_graph(2 + i % 5, 3 * (i % 4), i) for i in range(50)]
    return [pack_arrays(graphs[i:i + 10], [RawItem(j, str(j), None, (float(j),)) for j in range(i, i + 10)], 1)
            for i in range(0, 50, 10)]


def _concat(directory, shards, key):
    parts = [torch.load(directory / s["file"], weights_only=True)[key] for s in shards]
    return torch.cat([p.float() for p in parts], dim=1 if key == "edge_index" else 0)


def test_count_and_byte_budget_give_same_content(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    by_count = ShardWriter(tmp_path / "a", shard_size=16)
    by_bytes = ShardWriter(tmp_path / "b", shard_size=10_000, max_bytes=1)
    for blk in _blocks():
        by_count.add(blk)
        by_bytes.add(blk)
    a, b = by_count.close(), by_bytes.close()
    assert [s["n_graphs"] for s in a] == [16, 16, 16, 2]
    assert [s["n_graphs"] for s in b] == [10] * 5  # one shard per block
    for key in ("x", "x_feat", "edge_attr", "edge_feat", "y", "row_id", "edge:edge_dist"):
        assert torch.equal(_concat(tmp_path / "a", a, key), _concat(tmp_path / "b", b, key)), key
    first = torch.load(tmp_path / "a" / a[0]["file"], weights_only=True)
    assert first["x"].dtype == torch.int8 and first["node_ptr"][-1] == a[0]["n_nodes"]
