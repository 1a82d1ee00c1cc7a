"""Inference plumbing for screening: featurize chunks (in-process or in worker processes), pack them
into tensor dicts and run models over them, keeping one result slot per input row.

Workers return packed numpy blocks (cheap to pickle), never ``Data`` objects.
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import torch

logger = logging.getLogger(__name__)


@dataclass
class FeaturizedChunk:
    """Featurized items of one chunk.

    Attributes:
        n: Number of input items in the chunk.
        ok: Chunk-local positions of the items that became graphs (in order).
        block: Packed numpy block of those graphs (``harmony_mol.data.packing.pack_records``), or ``{}``.
        errors: ``{position: reason}`` for the items that failed.
    """

    n: int
    ok: list[int]
    block: dict[str, np.ndarray]
    errors: dict[int, str]


def _quiet() -> None:
    try:
        from rdkit import RDLogger

        RDLogger.DisableLog("rdApp.*")
    except ImportError:  # pragma: no cover - rdkit is a hard dependency
        pass
    torch.set_num_threads(1)


def featurize_chunk(payloads: Sequence[Any], spec_dict: dict[str, Any], row0: int = 0) -> FeaturizedChunk:
    """Featurize ``payloads`` (SMILES strings, pymatgen Structures or ``FeaturizationError``s).

    Never raises for a bad item: its reason goes into ``errors``.
    """
    from featurizers.errors import FeaturizationError
    from featurizers.schema import FeaturizerSpec

    spec = FeaturizerSpec.from_dict(spec_dict)
    fast = spec.kind == "molecule"
    if fast:
        from featurizers.molecule import featurize_smiles_np
    else:
        from featurizers.dispatch import featurize_item_np
        from featurizers.readers import RawItem
    records: list[Any] = []
    ok: list[int] = []
    errors: dict[int, str] = {}
    for i, p in enumerate(payloads):
        if isinstance(p, FeaturizationError):
            errors[i] = p.reason
            continue
        if p is None or (isinstance(p, float) and np.isnan(p)):
            errors[i] = "empty input"
            continue
        try:
            if fast:
                records.append(featurize_smiles_np(p, spec, row_id=row0 + i))
            else:
                records.append(featurize_item_np(RawItem(row0 + i, str(row0 + i), p, ()), spec))
            ok.append(i)
        except FeaturizationError as exc:
            errors[i] = exc.reason
        except Exception as exc:  # noqa: BLE001 - one odd item must not stop a screen
            errors[i] = f"{type(exc).__name__}: {exc}"
    block = pack_arrays(records, [row0 + i for i in ok]) if records else {}
    return FeaturizedChunk(len(payloads), ok, block, errors)


def pack_arrays(arrays: Sequence[dict[str, np.ndarray]], row_ids: Sequence[int]) -> dict[str, np.ndarray]:
    """Concatenate per-graph core arrays (``featurize_smiles_np`` style) into a packed block (no targets: ``y`` is ``[G, 0]``)."""
    out: dict[str, np.ndarray] = {}
    for name in ("x", "x_feat", "edge_attr", "edge_feat"):
        out[name] = np.concatenate([a[name] for a in arrays], axis=0)
    out["edge_index"] = np.concatenate([a["edge_index"] for a in arrays], axis=1)
    out["n_nodes"] = np.fromiter((a["x"].shape[0] for a in arrays), dtype=np.int64, count=len(arrays))
    out["n_edges"] = np.fromiter((a["edge_index"].shape[1] for a in arrays), dtype=np.int64, count=len(arrays))
    out["y"] = np.zeros((len(arrays), 0), dtype=np.float32)
    out["row_id"] = np.asarray(row_ids, dtype=np.int64)
    return out


def block_to_tensors(block: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Packed numpy block → ``FastGraphLoader`` tensor dict (ptrs instead of counts, schema dtypes)."""
    out: dict[str, torch.Tensor] = {}
    for k, v in block.items():
        if k in ("n_nodes", "n_edges"):
            continue
        t = torch.from_numpy(np.ascontiguousarray(v))
        if k in ("x", "edge_attr", "edge_index", "row_id"):
            t = t.long()
        elif t.is_floating_point():
            t = t.float()
        out[k.split(":", 1)[-1]] = t
    zero = torch.zeros(1, dtype=torch.long)
    out["node_ptr"] = torch.cat([zero, torch.from_numpy(block["n_nodes"]).long().cumsum(0)])
    out["edge_ptr"] = torch.cat([zero, torch.from_numpy(block["n_edges"]).long().cumsum(0)])
    return out


def featurize_stream(
    chunks: Iterable[Sequence[Any]], spec_dict: dict[str, Any], workers: int = 1, sub_chunk: int = 512,
) -> Iterator[FeaturizedChunk]:
    """Featurize chunks in order; with ``workers`` > 1 a bounded pool pipelines them.

    At most two chunks are in flight (the one being consumed and the next, queued so the workers
    keep featurizing while the caller runs the model), so memory stays bounded whatever the input size.
    Each yielded :class:`FeaturizedChunk` corresponds to one input chunk, in input order.
    """
    if workers <= 1:
        row0 = 0
        for ch in chunks:
            yield featurize_chunk(list(ch), spec_dict, row0)
            row0 += len(ch)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_quiet) as pool:
        pending: deque[tuple[int, Future]] = deque()  # (chunk id, future) of sub-chunks, in order
        parts: dict[int, list[FeaturizedChunk]] = {}
        n_sub: dict[int, int] = {}
        row0 = 0
        it = iter(chunks)
        exhausted = False
        cid = 0
        while True:
            # keep the next chunk queued while the caller works on the current one (workers never idle),
            # but never more than two chunks in flight (bounded memory)
            while not exhausted and len(parts) < 2:
                try:
                    ch = list(next(it))
                except StopIteration:
                    exhausted = True
                    break
                subs = [ch[i:i + sub_chunk] for i in range(0, len(ch), sub_chunk)] or [[]]
                n_sub[cid] = len(subs)
                parts[cid] = []
                for s in subs:
                    pending.append((cid, pool.submit(featurize_chunk, s, spec_dict, row0)))
                    row0 += len(s)
                cid += 1
            if not pending:
                break
            c, fut = pending.popleft()
            parts[c].append(fut.result())
            if len(parts[c]) == n_sub[c]:
                yield merge_chunks(parts.pop(c))


def merge_chunks(parts: list[FeaturizedChunk]) -> FeaturizedChunk:
    """Concatenate sub-chunk results (positions re-based)."""
    if len(parts) == 1:
        return parts[0]
    ok, errors, blocks, base = [], {}, [], 0
    for p in parts:
        ok += [base + i for i in p.ok]
        errors.update({base + i: r for i, r in p.errors.items()})
        if p.block:
            blocks.append(p.block)
        base += p.n
    block: dict[str, np.ndarray] = {}
    if blocks:
        keys = [k for k in blocks[0] if all(k in b for b in blocks)]
        for k in keys:
            block[k] = np.concatenate([b[k] for b in blocks], axis=1 if k == "edge_index" else 0)
    return FeaturizedChunk(base, ok, block, errors)


@torch.no_grad()
def run_models(
    fn: Callable[[Any], torch.Tensor], tensors: dict[str, torch.Tensor], batch_size: int, device: torch.device | str,
) -> torch.Tensor:
    """Apply ``fn(batch) -> [B, K]`` over all graphs of ``tensors`` in order; returns ``[G, K]`` on CPU."""
    from harmony_mol.data.loaders import FastGraphLoader

    loader = FastGraphLoader(tensors, batch_size=batch_size, shuffle=False, device=device)
    outs = [fn(b).float().cpu() for b in loader]
    return torch.cat(outs) if outs else torch.zeros(0, 0)
