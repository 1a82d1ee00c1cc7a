"""The per-chunk featurization task (runs in a worker process or in-process)."""

from __future__ import annotations

import logging
import multiprocessing
import sys
from typing import Any

import torch

from featurizers.errors import FeaturizationError
from featurizers.schema import FeaturizerSpec
from harmony_mol.data.inputs import ChunkItem, source_text
from harmony_mol.data.packing import pack_records

logger = logging.getLogger(__name__)

_SPEC_CACHE: dict[str, FeaturizerSpec] = {}


def _spec(spec_dict: dict[str, Any]) -> FeaturizerSpec:
    key = repr(sorted(spec_dict.items(), key=lambda kv: kv[0]))
    spec = _SPEC_CACHE.get(key)
    if spec is None:
        spec = _SPEC_CACHE.setdefault(key, FeaturizerSpec.from_dict(spec_dict))
    return spec


def featurize_chunk(spec_dict: dict[str, Any], chunk: list[ChunkItem]) -> dict[str, Any]:
    """Featurize one chunk; never raises for a bad item.

    Returns:
        ``{"block": packed arrays of the kept graphs, "kept": [(row_id, item_id, input)],
        "rejected": [(row_id, local_row, item_id, input, reason, file)]}`` in input order.
    """
    from featurizers import featurize_item

    spec = _spec(spec_dict)
    records, kept, rejected = [], [], []
    for row_id, local_row, fname, item in chunk:
        src = source_text(spec.kind, item)
        if isinstance(item.payload, BaseException):
            reason = getattr(item.payload, "reason", None) or str(item.payload)
            rejected.append((row_id, local_row, str(item.item_id), src, reason, fname))
            continue
        try:
            data = featurize_item(item, spec)
        except FeaturizationError as exc:
            rejected.append((row_id, local_row, str(item.item_id), src, exc.reason, fname))
            continue
        except Exception as exc:  # noqa: BLE001 - a bad row must never stop the run
            logger.debug("unexpected error on row %d", row_id, exc_info=True)
            rejected.append((row_id, local_row, str(item.item_id), src, f"{type(exc).__name__}: {exc}", fname))
            continue
        data.y = torch.tensor([list(item.targets)], dtype=torch.float32).reshape(1, len(item.targets))
        records.append(data)
        kept.append((row_id, str(item.item_id), src))
    block = pack_records(records, [k[0] for k in kept])
    return {"block": block, "kept": kept, "rejected": rejected}


def pool_context() -> Any:
    """``fork`` on Linux (fast start, workers inherit the imports), ``spawn`` elsewhere."""
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)
