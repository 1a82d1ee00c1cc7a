"""Parsers for the raw node-classification file formats (no torch_geometric downloads, no pickle RCE).

* Planetoid ``ind.<name>.<part>`` Python-2 pickles, read with :class:`RestrictedUnpickler`, which only
  resolves the handful of numpy / scipy.sparse / collections globals these files need.
* Geom-GCN ``out1_node_feature_label.txt[.gz]`` / ``out1_graph_edges.txt[.gz]`` text files (dense 0/1
  features for WebKB, sparse index lists for film = Actor) and the ``*_split_0.6_0.2_<i>.npz`` masks.
"""

from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

#: (module, name) pairs a Planetoid pickle may reference; everything else is refused.
_ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("scipy.sparse.csr", "csr_matrix"),
    ("scipy.sparse._csr", "csr_matrix"),
    ("collections", "defaultdict"),
    ("__builtin__", "list"),
    ("builtins", "list"),
})


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler of whitelisted numpy/scipy.sparse/defaultdict globals only (others: ``pickle.UnpicklingError``)."""

    def find_class(self, module: str, name: str) -> Any:
        """Resolve ``module.name`` if whitelisted (Python-2 and old numpy/scipy module paths mapped)."""
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to unpickle global {module}.{name} (not whitelisted)")
        if module == "numpy.core.multiarray" and hasattr(np, "_core"):
            module = "numpy._core.multiarray"
        module = {"__builtin__": "builtins", "scipy.sparse.csr": "scipy.sparse"}.get(module, module)
        return super().find_class(module, name)


def restricted_load(path: Path) -> Any:
    """Load one Planetoid pickle (latin1 for the Python-2 byte strings) with the restricted unpickler."""
    with open(path, "rb") as fh:
        return RestrictedUnpickler(fh, encoding="latin1").load()


def read_text(path: Path) -> str:
    """Read ``path`` or ``path.gz`` (gunzipped on the fly) as text; ``FileNotFoundError`` if neither exists."""
    for cand in (path, path.with_name(path.name + ".gz")):
        if cand.is_file():
            raw = cand.read_bytes()
            if cand.suffix == ".gz":
                raw = gzip.decompress(raw)
            return raw.decode("utf-8")
    raise FileNotFoundError(f"missing {path} (or {path.name}.gz)")


def parse_geom_gcn_features(text: str, num_features: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Parse ``out1_node_feature_label.txt``.

    Dense rows (``0,1,0,...``) for WebKB; film/Actor rows are index lists of the non-zero features
    (``num_features`` must then be given, 932 as in PyG's ``Actor``).

    Returns:
        (x [N, F] float32, y [N] int64), rows ordered by node id.
    """
    rows = [ln.split("\t") for ln in text.strip().split("\n")[1:] if ln.strip()]
    for i, parts in enumerate(rows):
        if len(parts) != 3:
            raise ValueError(f"feature file line {i + 2}: expected 3 tab-separated fields, got {len(parts)}")
    ids = np.array([int(r[0]) for r in rows], dtype=np.int64)
    labels = np.array([int(r[2]) for r in rows], dtype=np.int64)
    feats = [[int(v) for v in r[1].split(",") if v != ""] for r in rows]
    if sorted(ids.tolist()) != list(range(len(rows))):
        raise ValueError("feature file node ids are not a permutation of 0..N-1")
    if num_features is None:
        x = np.asarray(feats, dtype=np.float32)
    else:
        x = np.zeros((len(rows), num_features), dtype=np.float32)
        for i, idx in enumerate(feats):
            x[i, idx] = 1.0
    order = np.argsort(ids)
    return x[order], labels[order]


def parse_edge_list(text: str) -> np.ndarray:
    """Parse ``out1_graph_edges.txt`` (header line, then ``src<TAB>dst``) to an int64 [2, E] array."""
    rows = [ln.split("\t") for ln in text.strip().split("\n")[1:] if ln.strip()]
    return np.ascontiguousarray(np.asarray(rows, dtype=np.int64).reshape(-1, 2).T)


def load_split_masks(split_dir: Path, name: str, n_splits: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack the Geom-GCN ``<name>_split_0.6_0.2_<i>.npz`` masks into bool arrays [S, N]."""
    splits = []
    for i in range(n_splits):
        path = split_dir / f"{name}_split_0.6_0.2_{i}.npz"
        if not path.is_file():
            raise FileNotFoundError(f"missing split file {path}")
        with np.load(path) as z:
            splits.append([z[f"{part}_mask"].astype(bool) for part in ("train", "val", "test")])
    tr, va, te = (np.stack(masks) for masks in zip(*splits))
    return tr, va, te


def planetoid_arrays(raw_dir: Path, name: str) -> dict[str, Any]:
    """Read the 8 Planetoid parts of ``name``; ``FileNotFoundError`` names every missing ``ind.<name>.*`` file."""
    parts = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
    missing = [f"ind.{name}.{p}" for p in parts if not (raw_dir / f"ind.{name}.{p}").is_file()]
    if missing:
        raise FileNotFoundError(f"Planetoid '{name}' is incomplete in {raw_dir}: missing {', '.join(missing)}")
    out: dict[str, Any] = {p: restricted_load(raw_dir / f"ind.{name}.{p}") for p in parts[:-1]}
    out["test.index"] = np.loadtxt(io.StringIO((raw_dir / f"ind.{name}.test.index").read_text()), dtype=np.int64)
    return out
