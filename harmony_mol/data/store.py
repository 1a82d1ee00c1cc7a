"""Read a dataset directory written by :func:`harmony_mol.data.build.build_dataset` lazily.

Shards are opened with ``torch.load(..., mmap=True, weights_only=True)`` on first access, so
opening a dataset costs only the manifest read. ``GraphDataset[i]`` is the ``i``-th kept graph in
input order as a PyG ``Data`` with the dtypes of :mod:`featurizers.schema`.
"""

from __future__ import annotations

import bisect
import csv
import functools
import gzip
import itertools
import json
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset
from torch_geometric.data import Data

from featurizers.schema import FeaturizerSpec
from harmony_mol.data.config import MANIFEST, STORE_FORMAT_VERSION

_INT_FIELDS = ("x", "edge_attr", "edge_index", "row_id", "node_ptr", "edge_ptr")


class GraphDataset(Dataset):
    """A featurized dataset on disk (lazy, shard-backed).

    Attributes:
        path: The dataset directory.
        manifest: The parsed ``manifest.json``.
        spec: The :class:`FeaturizerSpec` the graphs were made with.
        target_names: Label names (columns of ``y``).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        mpath = self.path / MANIFEST
        if not mpath.is_file():
            raise FileNotFoundError(f"{self.path} is not a complete dataset (no {MANIFEST}); run `harmony featurize`")
        self.manifest: dict[str, Any] = json.loads(mpath.read_text())
        version = self.manifest.get("format_version")
        if version != STORE_FORMAT_VERSION:
            raise ValueError(f"{self.path}: dataset format {version} is not supported "
                             f"(expected {STORE_FORMAT_VERSION}); re-run `harmony featurize --force`")
        self.spec = FeaturizerSpec.from_dict(self.manifest["featurizer_spec"])
        self.target_names: list[str] = list(self.manifest["target_names"])
        shards = self.manifest["shards"]
        self._files = [s["file"] for s in shards]
        self._starts = [0, *itertools.accumulate(int(s["n_graphs"]) for s in shards)]
        self._shards: dict[int, dict[str, torch.Tensor]] = {}
        self._tensors: dict[str, torch.Tensor] | None = None

    def __len__(self) -> int:
        return self._starts[-1]

    def shard(self, k: int) -> dict[str, torch.Tensor]:
        """Raw tensors of shard ``k`` (memory-mapped, compact dtypes)."""
        if k not in self._shards:
            self._shards[k] = torch.load(self.path / self._files[k], mmap=True, weights_only=True)
        return self._shards[k]

    def __getitem__(self, i: int) -> Data:
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"graph index {i} out of range for {len(self)} graphs")
        k = bisect.bisect_right(self._starts, i) - 1
        s = self.shard(k)
        j = i - self._starts[k]
        n0, n1 = int(s["node_ptr"][j]), int(s["node_ptr"][j + 1])
        e0, e1 = int(s["edge_ptr"][j]), int(s["edge_ptr"][j + 1])
        d = Data(
            x=s["x"][n0:n1].long(), x_feat=s["x_feat"][n0:n1].float(),
            edge_index=s["edge_index"][:, e0:e1].long(), edge_attr=s["edge_attr"][e0:e1].long(),
            edge_feat=s["edge_feat"][e0:e1].float(), y=s["y"][j:j + 1].float(),
            row_id=s["row_id"][j:j + 1].long(), num_nodes=n1 - n0,
        )
        for key, t in s.items():
            if key.startswith("node:"):
                d[key[5:]] = t[n0:n1]
            elif key.startswith("edge:"):
                d[key[5:]] = t[e0:e1]
            elif key.startswith("graph:"):
                d[key[6:]] = t[j:j + 1]
        return d

    @functools.cached_property
    def row_ids(self) -> list[int]:
        """0-based input row of every graph, in dataset order."""
        return [int(v) for k in range(len(self._files)) for v in self.shard(k)["row_id"].tolist()]

    @functools.cached_property
    def _index(self) -> tuple[list[str], list[str]]:
        with gzip.open(self.path / "index.csv.gz", "rt", newline="") as fh:
            rows = list(csv.reader(fh))[1:]
        return [row[1] for row in rows], [row[2] for row in rows]

    @property
    def ids(self) -> list[str]:
        """Item identifiers (from the id column, or the reader's default) in dataset order."""
        return self._index[0]

    @property
    def inputs(self) -> list[str]:
        """Input strings (SMILES for molecules, structure ids for crystals) in dataset order."""
        return self._index[1]

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every shard concatenated (computed once, schema dtypes, extras such as ``edge_dist`` too).

        Shapes:
            x ``[N, Cx]``, x_feat ``[N, Fx]``, edge_index ``[2, E]`` (local ids), edge_attr ``[E, Ce]``,
            edge_feat ``[E, Fe]``, y ``[G, T]``, row_id ``[G]``, node_ptr/edge_ptr ``[G+1]``.
        """
        if self._tensors is None:
            parts = [self.shard(k) for k in range(len(self._files))]
            if not parts:
                raise ValueError(f"{self.path} holds no graphs")
            out: dict[str, torch.Tensor] = {}
            for key in parts[0]:
                if key in ("node_ptr", "edge_ptr"):
                    continue
                dim = 1 if key == "edge_index" else 0
                t = torch.cat([p[key].long() if key in _INT_FIELDS else p[key] for p in parts], dim=dim)
                if key in ("x_feat", "edge_feat", "y"):
                    t = t.float()
                out[key.split(":", 1)[-1]] = t
            for ptr in ("node_ptr", "edge_ptr"):
                counts = torch.cat([p[ptr].diff() for p in parts])
                out[ptr] = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
            self._tensors = out
        return self._tensors

    def __repr__(self) -> str:
        return (f"GraphDataset({str(self.path)!r}, graphs={len(self)}, kind={self.spec.kind}, "
                f"preset={self.spec.preset}, tasks={len(self.target_names)})")


def load_dataset(path: str | Path) -> GraphDataset:
    """Open a dataset directory lazily (see :class:`GraphDataset`)."""
    return GraphDataset(path)
