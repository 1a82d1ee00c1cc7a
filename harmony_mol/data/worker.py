"""The per-chunk featurization task (runs in a worker process or in-process)."""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from featurizers.errors import FeaturizationError
from featurizers.schema import FeaturizerSpec
from harmony_mol.data.inputs import ChunkItem, source_text
from harmony_mol.data.packing import data_to_arrays, pack_arrays

logger = logging.getLogger(__name__)

_SPEC_CACHE: dict[str, FeaturizerSpec] = {}


def _spec(spec_dict: dict[str, Any]) -> FeaturizerSpec:
    key = repr(sorted(spec_dict.items(), key=lambda kv: kv[0]))
    spec = _SPEC_CACHE.get(key)
    if spec is None:
        spec = _SPEC_CACHE.setdefault(key, FeaturizerSpec.from_dict(spec_dict))
    return spec


def _np_featurizer(spec: FeaturizerSpec) -> Callable[[Any], dict[str, np.ndarray]]:
    """Fastest available item -> numpy-arrays function for ``spec`` (no torch objects if possible)."""
    import featurizers

    direct = getattr(featurizers, "featurize_item_np", None)
    if direct is not None:
        return lambda item: direct(item, spec)
    if spec.kind == "molecule":
        try:
            from featurizers.molecule import featurize_smiles_np
        except ImportError:
            featurize_smiles_np = None
        if featurize_smiles_np is not None:
            fallback = featurizers.featurize_item

            def mol(item: Any) -> dict[str, np.ndarray]:
                if isinstance(item.payload, str):
                    return featurize_smiles_np(item.payload, spec, row_id=item.row_id)
                return data_to_arrays(fallback(item, spec))

            return mol
    return lambda item: data_to_arrays(featurizers.featurize_item(item, spec))


#: inputs longer than this are cut in ``rejected.csv`` (a 1 MB bad row would otherwise be stored whole)
MAX_SHOWN_INPUT = 1000


def truncate_input(text: str, limit: int = MAX_SHOWN_INPUT) -> str:
    """``text`` cut to ``limit`` characters with a marker saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...[truncated: {len(text):,} characters]"


def featurize_chunk(spec_dict: dict[str, Any], n_targets: int, chunk: list[ChunkItem]) -> dict[str, Any]:
    """Featurize one chunk; never raises for a bad item.

    Returns:
        ``{"block": packed arrays of the kept graphs, "kept": [(row_id, item_id, input)],
        "rejected": [(row_id, local_row, item_id, input, reason, file)]}`` in input order.
    """
    spec = _spec(spec_dict)
    fn = _np_featurizer(spec)
    arrays, row_ids, targets, kept, rejected = [], [], [], [], []
    for row_id, local_row, fname, item in chunk:
        src = source_text(spec.kind, item)
        shown = truncate_input(src)
        if isinstance(item.payload, BaseException):
            reason = getattr(item.payload, "reason", None) or str(item.payload)
            rejected.append((row_id, local_row, str(item.item_id), shown, reason, fname))
            continue
        try:
            arr = fn(item)
        except FeaturizationError as exc:
            rejected.append((row_id, local_row, str(item.item_id), shown, exc.reason, fname))
            continue
        except Exception as exc:  # noqa: BLE001 - a bad row must never stop the run
            logger.debug("unexpected error on row %d", row_id, exc_info=True)
            rejected.append((row_id, local_row, str(item.item_id), shown, f"{type(exc).__name__}: {exc}", fname))
            continue
        if len(item.targets) != n_targets:
            rejected.append((row_id, local_row, str(item.item_id), shown,
                             f"{len(item.targets)} label values, expected {n_targets}", fname))
            continue
        arrays.append(arr)
        row_ids.append(row_id)
        targets.append(item.targets)
        kept.append((row_id, str(item.item_id), src))
    return {"block": pack_arrays(arrays, row_ids, targets, n_targets), "kept": kept, "rejected": rejected}


def pool_context() -> Any:
    """``fork`` on Linux (fast start, workers inherit the imports), ``spawn`` elsewhere."""
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)
