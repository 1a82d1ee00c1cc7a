"""Write packed blocks of graphs as fixed-size shards.

A *packed block* is the dict of numpy arrays of a run of consecutive graphs that
:func:`featurizers.batch.pack_arrays` builds (``GraphChunk.arrays``). Shards are the same arrays
as torch tensors (compact dtypes) with ``node_ptr``/``edge_ptr [G+1]`` instead of the counts; the
shard boundaries depend only on the data and ``shard_size``, never on the number of workers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

logger = logging.getLogger(__name__)


def _slice_block(block: dict[str, np.ndarray], g0: int, g1: int) -> dict[str, np.ndarray]:
    """Graphs ``g0:g1`` of a packed block."""
    nptr = np.concatenate([[0], np.cumsum(block["n_nodes"])])
    eptr = np.concatenate([[0], np.cumsum(block["n_edges"])])
    n0, n1, e0, e1 = nptr[g0], nptr[g1], eptr[g0], eptr[g1]
    out = {}
    for k, v in block.items():
        if k in ("x", "x_feat") or k.startswith("node:"):
            out[k] = v[n0:n1]
        elif k in ("edge_attr", "edge_feat") or k.startswith("edge:"):
            out[k] = v[e0:e1]
        elif k == "edge_index":
            out[k] = v[:, e0:e1]
        else:
            out[k] = v[g0:g1]
    return out


def _int_dtype(max_value: int) -> torch.dtype:
    for dt, lim in ((torch.int8, 127), (torch.int16, 32767), (torch.int32, 2**31 - 1)):
        if max_value <= lim:
            return dt
    return torch.int64


def block_to_shard(blocks: Sequence[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """Concatenate packed blocks into one shard dict of torch tensors with compact dtypes."""
    cat: dict[str, np.ndarray] = {}
    for k in blocks[0]:
        axis = 1 if k == "edge_index" else 0
        cat[k] = np.concatenate([b[k] for b in blocks], axis=axis) if len(blocks) > 1 else blocks[0][k]
    shard: dict[str, torch.Tensor] = {}
    for k, v in cat.items():
        if k in ("n_nodes", "n_edges"):
            continue
        t = torch.from_numpy(np.ascontiguousarray(v))
        if k in ("x", "edge_attr", "edge_index"):
            t = t.to(_int_dtype(int(t.max()) if t.numel() else 0))
        elif t.is_floating_point():
            t = t.to(torch.float32)
        shard[k] = t
    shard["node_ptr"] = torch.from_numpy(np.concatenate([[0], np.cumsum(cat["n_nodes"])]).astype(np.int64))
    shard["edge_ptr"] = torch.from_numpy(np.concatenate([[0], np.cumsum(cat["n_edges"])]).astype(np.int64))
    return shard


class ShardWriter:
    """Accumulate packed blocks and write ``shard-XXXXX.pt`` files of exactly ``shard_size`` graphs.

    Args:
        directory: Where shard files go (the temporary dataset directory).
        shard_size: Graphs per shard (the last shard may be smaller).
        max_bytes: Also close a shard once its buffered arrays reach this many bytes (checked after
            each block, so edge-heavy crystal graphs keep memory bounded).
    """

    def __init__(self, directory: Path, shard_size: int, max_bytes: int | None = None) -> None:
        self.directory = Path(directory)
        self.shard_size = int(shard_size)
        self.max_bytes = max_bytes
        self._bytes = 0
        self.shards: list[dict[str, Any]] = []
        self._buf: list[dict[str, np.ndarray]] = []
        self._buffered = 0
        self.fields: dict[str, dict[str, Any]] = {}

    def add(self, block: dict[str, np.ndarray]) -> None:
        """Queue a packed block; full shards are written at once."""
        if not block:
            return
        g = len(block["row_id"])
        start = 0
        while start < g:
            take = min(self.shard_size - self._buffered, g - start)
            part = block if (start == 0 and take == g) else _slice_block(block, start, start + take)
            self._buf.append(part)
            self._buffered += take
            self._bytes += sum(v.nbytes for v in part.values())
            start += take
            if self._buffered == self.shard_size:
                self._flush()
        if self._buffered and self.max_bytes is not None and self._bytes >= self.max_bytes:
            self._flush()

    def close(self) -> list[dict[str, Any]]:
        """Write the remaining graphs; return the shard list for the manifest."""
        if self._buffered:
            self._flush()
        return self.shards

    def _flush(self) -> None:
        shard = block_to_shard(self._buf)
        name = f"shard-{len(self.shards):05d}.pt"
        torch.save(shard, self.directory / name)
        if not self.fields:
            self.fields = {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape_tail": list(v.shape[1:])}
                           for k, v in shard.items()}
        self.shards.append({"file": name, "n_graphs": self._buffered,
                            "n_nodes": int(shard["node_ptr"][-1]), "n_edges": int(shard["edge_ptr"][-1])})
        logger.debug("wrote %s (%d graphs)", name, self._buffered)
        self._buf, self._buffered, self._bytes = [], 0, 0
