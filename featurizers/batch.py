"""Featurize many items into packed graph chunks, in input order, in this process or in a worker pool.

The one batch path of dataset building (``harmony_mol/data/build.py``) and prediction
(``harmony_mol/predict/api.py``): each input chunk becomes one :class:`GraphChunk`, the packed arrays
of its items that became graphs plus the reason of each item that did not, in the manner of chemprop's
``MolGraph`` (``chemprop/data/molgraph.py``). Workers return packed numpy arrays (cheap to pickle),
never ``Data`` objects.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import NamedTuple

import numpy as np
import torch

from featurizers.dispatch import featurize_item_np
from featurizers.errors import FeaturizationError
from featurizers.items import RawItem
from featurizers.schema import FeaturizerSpec

logger = logging.getLogger(__name__)

_CORE = ("x", "x_feat", "edge_index", "edge_attr", "edge_feat", "y", "row_id", "num_nodes", "batch", "ptr")
#: Fields cast to int64 for the loaders (the contract dtypes of ``featurizers/record.py``).
_LONG = ("x", "edge_attr", "edge_index", "row_id")


class GraphChunk(NamedTuple):
    """The featurized items of one input chunk.

    Attributes:
        n: Items in the chunk.
        kept: Chunk positions of the items that became graphs, in order.
        errors: ``{position: reason}`` of the items that did not.
        arrays: Packed arrays of the kept graphs (``{}`` when there are none), see :func:`pack_arrays`.
    """

    n: int
    kept: list[int]
    errors: dict[int, str]
    arrays: dict[str, np.ndarray]

    def reasons(self) -> list[str]:
        """Per item, in order: why it is not a graph, ``""`` when it is."""
        return [self.errors.get(i, "") for i in range(self.n)]

    def tensors(self) -> dict[str, torch.Tensor]:
        """The arrays as the tensor dict ``harmony_mol.data.loaders.FastGraphLoader`` collates.

        Shapes:
            As the arrays, with ``node_ptr``/``edge_ptr [G+1]`` instead of ``n_nodes``/``n_edges [G]``,
            extras named without their level prefix, integer fields int64 and float fields float32.
        """
        out: dict[str, torch.Tensor] = {}
        for k, v in self.arrays.items():
            if k in ("n_nodes", "n_edges"):
                continue
            t = torch.from_numpy(np.ascontiguousarray(v))
            if k in _LONG:
                t = t.long()
            elif t.is_floating_point():
                t = t.float()
            out[k.split(":", 1)[-1]] = t
        for level in ("node", "edge"):
            counts = torch.from_numpy(self.arrays[f"n_{level}s"]).long()
            out[f"{level}_ptr"] = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
        return out


def _extra_level(name: str, value: np.ndarray, n_nodes: int, n_edges: int) -> str | None:
    """Where an extra field lives: ``edge`` (``edge_*``), ``node`` (``pos`` / ``node_*``) or ``graph``."""
    rows = value.shape[0] if value.ndim else None
    if name.startswith("edge_") and rows == n_edges:
        return "edge"
    if (name == "pos" or name.startswith("node_")) and rows == n_nodes:
        return "node"
    return "graph" if rows == 1 else None


def pack_arrays(arrays: Sequence[dict[str, np.ndarray]], items: Sequence[RawItem],
                n_targets: int) -> dict[str, np.ndarray]:
    """Concatenate per-graph featurizer arrays into one packed block.

    Args:
        arrays: Per graph ``x, x_feat, edge_index (local), edge_attr, edge_feat`` (+ extras such as
            ``edge_dist``), from a ``featurize_*_np`` function.
        items: The item of each graph: its ``row_id`` (global 0-based input row) and ``targets``
            (``None``/NaN = missing).
        n_targets: Number of label columns ``T``.

    Returns:
        ``x, x_feat, edge_index, edge_attr, edge_feat, y, row_id, n_nodes, n_edges`` plus the extras every
        graph has, named ``<level>:<name>`` (level ``node``, ``edge`` or ``graph``); ``{}`` for no graphs.

    Shapes:
        G = len(arrays); x ``[N, Cx]``, x_feat ``[N, Fx]``, edge_index ``[2, E]``, edge_attr ``[E, Ce]``,
        edge_feat ``[E, Fe]``, y ``[G, T]``; n_nodes, n_edges, row_id ``[G]``.
    """
    if not arrays:
        return {}
    out = {k: np.concatenate([a[k] for a in arrays], axis=0) for k in ("x", "x_feat", "edge_attr", "edge_feat")}
    out["edge_index"] = np.concatenate([a["edge_index"] for a in arrays], axis=1)
    out["y"] = np.full((len(arrays), n_targets), np.nan, dtype=np.float32)
    if n_targets:
        for i, item in enumerate(items):
            out["y"][i] = [np.nan if v is None else float(v) for v in item.targets]
    out["row_id"] = np.asarray([item.row_id for item in items], dtype=np.int64)
    out["n_nodes"] = n_nodes = np.array([a["x"].shape[0] for a in arrays], dtype=np.int64)
    out["n_edges"] = n_edges = np.array([a["edge_index"].shape[1] for a in arrays], dtype=np.int64)
    for name, value in arrays[0].items():
        if name in _CORE or not all(name in a for a in arrays):
            continue
        level = _extra_level(name, np.asarray(value), int(n_nodes[0]), int(n_edges[0]))
        if level is None:
            logger.debug("extra field %s has no recognisable level; not stored", name)
            continue
        out[f"{level}:{name}"] = np.concatenate([a[name] for a in arrays], axis=0)
    return out


def featurize_chunk(items: Sequence[RawItem], spec: FeaturizerSpec, n_targets: int = 0) -> GraphChunk:
    """Featurize one chunk; never raises for a bad item (its reason goes into ``errors``).

    An item whose number of targets is not ``n_targets`` is rejected too (after its featurization,
    so a bad SMILES is reported as such).
    """
    arrays: list[dict[str, np.ndarray]] = []
    kept: list[int] = []
    errors: dict[int, str] = {}
    for i, item in enumerate(items):
        try:
            if item.payload is None or (isinstance(item.payload, float) and math.isnan(item.payload)):
                raise FeaturizationError("empty input", item.row_id)
            arr = featurize_item_np(item, spec)
        except FeaturizationError as exc:
            errors[i] = exc.reason
            continue
        except Exception as exc:  # a bad row must never stop the run
            logger.debug("unexpected error on row %d", item.row_id, exc_info=True)
            errors[i] = f"{type(exc).__name__}: {exc}"
            continue
        if len(item.targets) != n_targets:
            errors[i] = f"{len(item.targets)} label values, expected {n_targets}"
            continue
        arrays.append(arr)
        kept.append(i)
    return GraphChunk(len(items), kept, errors, pack_arrays(arrays, [items[i] for i in kept], n_targets))


def _merge(parts: list[GraphChunk]) -> GraphChunk:
    """Concatenate the sub-chunk results of one chunk (positions re-based)."""
    if len(parts) == 1:
        return parts[0]
    kept: list[int] = []
    errors: dict[int, str] = {}
    base = 0
    for p in parts:
        kept += [base + i for i in p.kept]
        errors.update({base + i: r for i, r in p.errors.items()})
        base += p.n
    blocks = [p.arrays for p in parts if p.arrays]
    keys = [k for k in blocks[0] if all(k in b for b in blocks)] if blocks else []
    arrays = {k: np.concatenate([b[k] for b in blocks], axis=1 if k == "edge_index" else 0) for k in keys}
    return GraphChunk(base, kept, errors, arrays)


def _quiet_worker() -> None:
    torch.set_num_threads(1)
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")


def featurize_many(chunks: Iterable[Sequence[RawItem]], spec: FeaturizerSpec, workers: int = 1,
                   n_targets: int = 0) -> Iterator[GraphChunk]:
    """Featurize chunks of items; one :class:`GraphChunk` per input chunk, in input order.

    With ``workers`` > 1 a pool pipelines them: each chunk is cut into sub-chunks (at most
    512 items, and small enough that every worker gets one) and at most two chunks are in
    flight (the one the caller consumes and the next, queued so the workers keep featurizing while
    the caller works), so memory stays bounded whatever the input size. The result does not depend
    on ``workers``.

    Args:
        chunks: Chunks of items (``row_id`` is the global input row stored with each graph).
        spec: The featurizer to run.
        workers: Featurizing processes (1 = in this process).
        n_targets: Number of target values every item must carry.
    """
    if workers <= 1:
        for ch in chunks:
            yield featurize_chunk(ch, spec, n_targets)
        return
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_quiet_worker) as pool:

        def submit(ch: Sequence[RawItem]) -> list[Future[GraphChunk]]:
            size = max(1, min(512, -(-len(ch) // workers)))
            subs = [ch[i:i + size] for i in range(0, len(ch), size)] or [ch]
            return [pool.submit(featurize_chunk, s, spec, n_targets) for s in subs]

        in_flight: deque[list[Future[GraphChunk]]] = deque()  # sub-chunk futures of each chunk, in order
        for ch in chunks:
            in_flight.append(submit(ch))
            if len(in_flight) == 2:
                yield _merge([f.result() for f in in_flight.popleft()])
        while in_flight:
            yield _merge([f.result() for f in in_flight.popleft()])
