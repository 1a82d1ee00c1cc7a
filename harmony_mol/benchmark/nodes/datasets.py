"""Node-classification datasets of the HarmonyGNN paper, loaded from the shared data dir (no downloads).

``load_node_dataset(name)`` returns a :class:`NodeDataset` with features, labels, edges and the
paper's splits stacked as ``[S, N]`` masks. Sources and warts:

* cornell/texas/wisconsin/actor: Geom-GCN raw files + 10 ``*_split_0.6_0.2_<i>.npz`` (48/32/20);
  edges kept **directed as loaded** (self-loops removed, duplicates merged), like the official code.
  Upstream ``cornell`` and ``texas`` feature files are identical (= Texas's); we detect that and warn.
  ``cornell`` keeps what PyG ``WebKB`` and the paper's code load (Texas features/labels on the Cornell
  graph: edge homophily 0.30, the paper's figure); ``cornell-platonov`` is Platonov et al.'s
  self-consistent ``cornell.npz`` (own node order, edges and splits; homophily 0.12). Mixing the two is
  wrong: their node orders differ (only 10 of 554 directed edges coincide).
* cora/citeseer(/pubmed): Planetoid pickles (restricted unpickler), public split, 1 split.
* chameleon-filtered/squirrel-filtered (/roman-empire): Platonov npz, 10 splits, symmetrised.
* ogbn-arxiv: OGB raw CSVs if present.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.utils import coalesce, remove_self_loops, to_undirected

from harmony_mol.benchmark.nodes import raw_formats as rf

logger = logging.getLogger(__name__)

#: Canonical upstream locations, recorded in reports and "not available" errors.
SOURCES: dict[str, str] = {
    "geom_gcn": "https://raw.githubusercontent.com/graphdml-uiuc-jlu/geom-gcn/master",
    "planetoid": "https://github.com/kimiyoung/planetoid/raw/master/data",
    "heterophilous": "https://github.com/yandex-research/heterophilous-graphs/raw/main/data",
    "ogbn-arxiv": "http://snap.stanford.edu/ogb/data/nodeproppred/arxiv.zip",
}


class DatasetUnavailable(FileNotFoundError):
    """The dataset's raw files are not under the data dir; the message names the files and the URL."""


@dataclass
class NodeDataset:
    """One transductive graph with its splits.

    Shapes:
        x: [N, F] float32; y: [N] int64; edge_index: [2, E] int64;
        train_masks / val_masks / test_masks: [S, N] bool (S = number of predefined splits).
    """

    name: str
    x: torch.Tensor
    y: torch.Tensor
    edge_index: torch.Tensor
    train_masks: torch.Tensor
    val_masks: torch.Tensor
    test_masks: torch.Tensor
    num_classes: int
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def num_nodes(self) -> int:
        """N."""
        return int(self.x.shape[0])

    @property
    def num_splits(self) -> int:
        """S."""
        return int(self.train_masks.shape[0])


def data_dir() -> Path:
    """Shared data directory: ``$HARMONY_DATA_DIR`` or ``<repo>/../shared/data``."""
    env = os.environ.get("HARMONY_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"


def _finish(name: str, x: np.ndarray, y: np.ndarray, edges: np.ndarray, masks: tuple[np.ndarray, ...],
            undirected: bool, meta: dict[str, Any]) -> NodeDataset:
    n = x.shape[0]
    ei = torch.as_tensor(edges, dtype=torch.long)
    ei, _ = remove_self_loops(ei)
    ei = to_undirected(ei, num_nodes=n) if undirected else coalesce(ei, num_nodes=n)
    tr, va, te = (torch.as_tensor(np.atleast_2d(m), dtype=torch.bool) for m in masks)
    y_t = torch.as_tensor(y, dtype=torch.long)
    return NodeDataset(name, torch.as_tensor(x, dtype=torch.float32), y_t, ei, tr, va, te,
                       int(y_t.max()) + 1, {**meta, "undirected": undirected, "num_edges": int(ei.shape[1])})


def cornell_texas_identical(root: Path | None = None) -> bool:
    """True when the Geom-GCN cornell and texas feature files have identical (decompressed) content."""
    base = (root or data_dir()) / "nodes" / "geom_gcn" / "new_data"
    name = "out1_node_feature_label.txt"
    return rf.read_text(base / "cornell" / name) == rf.read_text(base / "texas" / name)


def _geom_gcn(root: Path, name: str, undirected: bool) -> NodeDataset:
    base = root / "nodes" / "geom_gcn"
    folder = "film" if name == "actor" else name
    meta: dict[str, Any] = {"source": f"{SOURCES['geom_gcn']}/new_data/{folder}", "feature_source": "geom_gcn"}
    try:
        text = rf.read_text(base / "new_data" / folder / "out1_node_feature_label.txt")
        x, y = rf.parse_geom_gcn_features(text, 932 if name == "actor" else None)
        edges = rf.parse_edge_list(rf.read_text(base / "new_data" / folder / "out1_graph_edges.txt"))
        masks = rf.load_split_masks(base / "splits", folder)
    except FileNotFoundError as exc:
        raise DatasetUnavailable(f"{name}: {exc}; upstream {meta['source']}") from exc
    if name in ("cornell", "texas"):
        same = cornell_texas_identical(root)
        meta["cornell_texas_features_identical"] = same
        if same and name == "cornell":
            logger.warning("cornell: the Geom-GCN feature file is byte-identical to texas's, so (as in PyG "
                           "WebKB and the paper's code) Cornell = Texas features/labels on the Cornell graph; "
                           "'cornell-platonov' loads heterophilous_graphs/cornell.npz instead")
    return _finish(name, x, y, edges, masks, undirected, meta)


def _planetoid(root: Path, name: str) -> NodeDataset:
    raw = root / "nodes" / "planetoid" / "raw"
    try:
        a = rf.planetoid_arrays(raw, name)
    except FileNotFoundError as exc:
        raise DatasetUnavailable(f"{exc}. Upstream: {SOURCES['planetoid']}") from exc
    test_index = a["test.index"]
    sorted_test = np.sort(test_index)
    tx, ty = a["tx"].toarray(), a["ty"]
    if name == "citeseer":  # isolated test nodes: pad to the full index range (PyG's fix)
        rows = sorted_test - sorted_test[0]
        padded = [np.zeros((rows[-1] + 1, t.shape[1]), dtype=t.dtype) for t in (tx, ty)]
        padded[0][rows], padded[1][rows] = tx, ty
        tx, ty = padded
    x = np.concatenate([a["allx"].toarray(), tx]).astype(np.float32)
    y = np.concatenate([a["ally"], ty]).argmax(1).astype(np.int64)
    x[test_index] = x[sorted_test]
    y[test_index] = y[sorted_test]
    n = x.shape[0]
    n_train = a["y"].shape[0]
    masks = [np.zeros(n, dtype=bool) for _ in range(3)]
    masks[0][:n_train] = True
    masks[1][n_train:n_train + 500] = True
    masks[2][test_index] = True
    edges = np.asarray([(k, v) for k, nbrs in a["graph"].items() for v in nbrs], dtype=np.int64).T
    meta = {"source": f"{SOURCES['planetoid']}/ind.{name}.*", "split": "public"}
    return _finish(name, x, y, edges, tuple(masks), True, meta)


def _heterophilous(root: Path, name: str) -> NodeDataset:
    fname = name + ".npz"
    path = root / "nodes" / "heterophilous_graphs" / fname
    if not path.is_file():
        raise DatasetUnavailable(f"{name}: {path} not available here; upstream {SOURCES['heterophilous']}/{fname}")
    with np.load(path) as z:
        x, y, edges = z["node_features"], z["node_labels"], z["edges"].T
        masks = (z["train_masks"], z["val_masks"], z["test_masks"])
    return _finish(name, x, y, edges, masks, True, {"source": f"{SOURCES['heterophilous']}/{fname}"})


def _ogbn_arxiv(root: Path) -> NodeDataset:
    base = root / "nodes" / "ogbn_arxiv"
    need = ["raw/edge.csv.gz", "raw/node-feat.csv.gz", "raw/node-label.csv.gz",
            "split/time/train.csv.gz", "split/time/valid.csv.gz", "split/time/test.csv.gz"]
    missing = [p for p in need if not (base / p).is_file()]
    if missing:
        raise DatasetUnavailable(f"ogbn-arxiv not available here: missing {', '.join(missing)} under {base}; "
                                 f"upstream {SOURCES['ogbn-arxiv']}")
    x = np.loadtxt(base / need[1], delimiter=",", dtype=np.float32)
    y = np.loadtxt(base / need[2], delimiter=",", dtype=np.int64).reshape(-1)
    edges = np.loadtxt(base / need[0], delimiter=",", dtype=np.int64).T
    masks = tuple(np.isin(np.arange(x.shape[0]), np.loadtxt(base / p, dtype=np.int64)) for p in need[3:])
    return _finish("ogbn-arxiv", x, y, edges, masks, True, {"source": SOURCES["ogbn-arxiv"]})


#: Names accepted by :func:`load_node_dataset`.
DATASETS: tuple[str, ...] = ("cornell", "cornell-platonov", "texas", "wisconsin", "actor", "cora", "citeseer",
                             "pubmed", "chameleon-filtered", "squirrel-filtered", "roman-empire", "ogbn-arxiv")

#: The datasets read from Platonov et al.'s npz files, with the file's stem.
_HETEROPHILOUS = {"cornell-platonov": "cornell", "chameleon-filtered": "chameleon_filtered",
                  "squirrel-filtered": "squirrel_filtered", "roman-empire": "roman_empire"}


def load_node_dataset(name: str, root: Path | None = None, to_undirected: bool = False) -> NodeDataset:
    """Load ``name`` (one of :data:`DATASETS`) from ``root`` (default :func:`data_dir`).

    ``to_undirected`` symmetrises the directed Geom-GCN graphs (WebKB/Actor; the others are always
    symmetric). Raises ``ValueError`` for an unknown name and :class:`DatasetUnavailable` (naming the
    missing files and the upstream URL) when the raw files are not here.
    """
    key = name.lower().replace("_", "-")
    if key not in DATASETS:
        raise ValueError(f"unknown node dataset {name!r}; choose from {', '.join(DATASETS)}")
    root = root or data_dir()
    if key in _HETEROPHILOUS:
        ds = _heterophilous(root, _HETEROPHILOUS[key])
    elif key in ("cora", "citeseer", "pubmed"):
        ds = _planetoid(root, key)
    elif key == "ogbn-arxiv":
        ds = _ogbn_arxiv(root)
    else:
        ds = _geom_gcn(root, key, to_undirected)
    ds.name = key
    logger.info("loaded %s: N=%d E=%d F=%d C=%d splits=%d", key, ds.num_nodes, ds.edge_index.shape[1],
                ds.x.shape[1], ds.num_classes, ds.num_splits)
    return ds
