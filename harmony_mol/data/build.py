"""Featurize input files into an on-disk graph dataset (streaming, parallel, cached, atomic).

Layout of a dataset directory::

    shard-00000.pt ...   plain dicts of tensors (see harmony_mol.data.packing)
    index.csv.gz         row_id, id, input (SMILES or structure id) of every kept graph, in order
    rejected.csv         every rejected row with its 1-based row number and the reason
    duplicates.csv       rows dropped by ``dedupe`` (only when dedupe is on)
    manifest.json        spec, inputs (sha256), counts, target names, shards, cache key, provenance

The directory is built under a temporary sibling name and renamed into place at the end, so a run
killed midway never leaves a directory with a manifest.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import logging
import os
import shutil
import time
from collections import deque
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from featurizers.batch import featurize_many
from featurizers.errors import REJECTED_COLUMNS
from featurizers.items import RawItem
from featurizers.readers import count_items
from featurizers.schema import FEATURIZER_VERSION, FeaturizerSpec
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.data.inputs import ChunkItem, iter_inputs, make_spec, plan_inputs, source_text
from harmony_mol.data.packing import ShardWriter
from harmony_mol.data.request import read_manifest, request_key
from harmony_mol.data.store import MANIFEST, STORE_FORMAT_VERSION
from harmony_mol.utils.io import atomic_directory, check_replaceable, pid_alive, sha256_file, sha256_text
from harmony_mol.utils.log import progress_enabled

logger = logging.getLogger(__name__)

__all__ = ["DatasetInfo", "FeaturizeConfig", "build_dataset", "cache_key"]


@dataclass(frozen=True)
class DatasetInfo:
    """Result of :func:`build_dataset`."""

    path: Path
    n_graphs: int
    n_rejected: int
    target_names: list[str]
    cache_hit: bool
    key: str
    seconds: float
    n_duplicates: int = 0
    rejected_path: Path | None = None


def cache_key(cfg: FeaturizeConfig) -> tuple[str, list[dict[str, Any]], FeaturizerSpec]:
    """Content hash of the inputs + featurizer spec + reader options (+ versions).

    Returns:
        ``(key, input_records, spec)`` where ``input_records`` describe each input for the manifest.
    """
    plans, kind = plan_inputs(cfg)
    spec = make_spec(cfg, kind)
    records = [{"path": str(p.path), "dataset": p.dataset, "sha256": sha256_file(p.path), "bytes": _size(p.path),
                "smiles_column": p.smiles_column, "cif_column": p.cif_column, "id_column": p.id_column,
                "target_columns": None if p.target_columns is None else list(p.target_columns)} for p in plans]
    blob = {"inputs": [{k: v for k, v in r.items() if k not in ("path", "bytes", "dataset")} for r in records],
            "spec": spec.key(), "featurizer_version": FEATURIZER_VERSION, "store_format": STORE_FORMAT_VERSION,
            "dedupe": cfg.dedupe}
    return sha256_text(json.dumps(blob, sort_keys=True))[:24], records, spec


def build_dataset(cfg: FeaturizeConfig) -> DatasetInfo:
    """Featurize ``cfg.inputs`` into ``cfg.output`` (or return at once on a cache hit).

    Raises:
        ValueError: no output given, no valid rows, or too many rejected rows (the message names
            the rejected-rows file, kept beside the output).
        FileNotFoundError: an input does not exist.
    """
    t0 = time.perf_counter()
    if cfg.output is None:
        raise ValueError("FeaturizeConfig.output is required")
    if not cfg.inputs:
        raise ValueError("FeaturizeConfig.inputs is empty")
    out = Path(cfg.output)
    key, input_records, spec = cache_key(cfg)
    hit = read_manifest(out)
    if hit is not None and hit.get("cache_key") == key and not cfg.force:
        logger.info("cache hit: %s (key %s, %d graphs)", out, key, hit["counts"]["graphs"])
        return DatasetInfo(path=out, n_graphs=hit["counts"]["graphs"], n_rejected=hit["counts"]["rejected"],
                           target_names=list(hit["target_names"]), cache_hit=True, key=key,
                           seconds=time.perf_counter() - t0, n_duplicates=hit["counts"].get("duplicates", 0),
                           rejected_path=out / "rejected.csv")
    check_replaceable(out, MANIFEST)  # before any work: never replace the user's own files
    _log_concurrent_builds(out)
    plans, _ = plan_inputs(cfg)
    with atomic_directory(out, marker=MANIFEST) as tmp:
        tmp.chmod(0o755 & ~_umask())
        stats = _featurize_into(tmp, cfg, plans, spec)
        _check_rejections(tmp, out, stats, cfg.max_reject_fraction)
        seconds = time.perf_counter() - t0
        manifest = _manifest(cfg, spec, key, input_records, stats, seconds)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    logger.info("featurized %d graphs (%d rejected, %d duplicates) into %s in %.1f s",
                stats["graphs"], stats["rejected"], stats["duplicates"], out, seconds)
    return DatasetInfo(path=out, n_graphs=stats["graphs"], n_rejected=stats["rejected"],
                       target_names=stats["target_names"], cache_hit=False, key=key, seconds=seconds,
                       n_duplicates=stats["duplicates"], rejected_path=out / "rejected.csv")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _log_concurrent_builds(out: Path) -> None:
    """Warn about build folders of ``out`` whose writer is still running.

    Killed runs' folders are swept by :func:`~harmony_mol.utils.io.atomic_directory`.
    """
    if not out.parent.is_dir():
        return
    live = []
    for p in sorted(out.parent.glob(f".{out.name}.*.partial")):
        pid = p.name[len(out.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and pid_alive(int(pid)):
            live.append(f"{p.name} (pid {pid})")
    if live:
        logger.warning("another build of %s is running (%s); the last one to finish wins", out, ", ".join(live))


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size


def _featurize_into(tmp: Path, cfg: FeaturizeConfig, plans: list[Any], spec: FeaturizerSpec) -> dict[str, Any]:
    """Stream items -> (pool) -> shards + index + rejected rows. Returns counts and bookkeeping."""
    from tqdm.auto import tqdm

    writer = ShardWriter(tmp, cfg.shard_size, max_bytes=cfg.shard_max_mb * 2**20)
    stats: dict[str, Any] = {"graphs": 0, "rejected": 0, "duplicates": 0, "rows": 0, "reasons": []}
    show = progress_enabled(cfg.progress)
    bar = tqdm(total=_count_rows(plans) if show else None, unit=" rows", disable=not show, smoothing=0.1,
               dynamic_ncols=True, desc="featurize")
    with gzip.open(tmp / "index.csv.gz", "wt", newline="", compresslevel=6) as idx_fh, \
            open(tmp / "rejected.csv", "w", newline="") as rej_fh, \
            (open(tmp / "duplicates.csv", "w", newline="") if cfg.dedupe else nullcontext()) as dup_fh:
        idx_w = csv.writer(idx_fh)
        idx_w.writerow(["row_id", "id", "input"])
        rej_w = csv.writer(rej_fh)
        rej_w.writerow([*REJECTED_COLUMNS, "file"])
        dup_w = None
        if dup_fh is not None:
            dup_w = csv.writer(dup_fh)
            dup_w.writerow(["row", "row_id", "input", "first_row_id", "file"])
        chunks = iter_inputs(plans, cfg, stats, dup_w)
        first = next(chunks, None)  # opening the first input names the label columns every item must fill
        in_flight: deque[list[ChunkItem]] = deque()  # the input chunks featurize_many has taken, in order

        def items() -> Iterator[list[RawItem]]:
            for chunk in itertools.chain([first] if first else [], chunks):
                in_flight.append(chunk)
                yield [item for _, _, item in chunk]

        counted_dups = 0
        try:
            for graphs in featurize_many(items(), spec, cfg.workers, len(stats["target_names"])):
                chunk = in_flight.popleft()
                for pos, (local_row, fname, item) in enumerate(chunk):
                    shown = source_text(spec.kind, item)
                    reason = graphs.errors.get(pos)
                    if reason is None:
                        idx_w.writerow([item.row_id, item.item_id, shown])
                        continue
                    rej_w.writerow([local_row + 1, item.row_id, item.item_id, _truncate(shown), reason, fname])
                    stats["rejected"] += 1
                    if len(stats["reasons"]) < 5:
                        stats["reasons"].append(f"row {local_row + 1} of {fname}: {reason}")
                writer.add(graphs.arrays)
                stats["graphs"] += len(graphs.kept)
                # rows dropped by dedupe count towards the total too
                bar.update(len(chunk) + stats["duplicates"] - counted_dups)
                counted_dups = stats["duplicates"]
        finally:
            bar.close()
    stats["shards"] = writer.close()
    stats["fields"] = writer.fields
    for line in stats["reasons"]:
        logger.warning("rejected %s", line)
    return stats


def _count_rows(plans: list[Any]) -> int | None:
    """Rows of all inputs (the progress bar's total), or ``None`` when one cannot be counted cheaply."""
    counts = [count_items(p.path, p.kind) for p in plans]
    return None if any(c is None for c in counts) else sum(int(c) for c in counts)


def _truncate(text: str, limit: int = 1000) -> str:
    """``text`` cut to ``limit`` characters for ``rejected.csv`` (a 1 MB bad row is not stored whole)."""
    return text if len(text) <= limit else f"{text[:limit]}...[truncated: {len(text):,} characters]"


def _check_rejections(tmp: Path, out: Path, stats: dict[str, Any], max_frac: float) -> None:
    total = stats["graphs"] + stats["rejected"]
    frac = stats["rejected"] / total if total else 1.0
    if stats["graphs"] > 0 and frac <= max_frac:
        return
    keep = out.with_name(out.name + ".rejected.csv")
    shutil.copyfile(tmp / "rejected.csv", keep)
    if stats["graphs"] == 0:
        raise ValueError(f"no valid rows among {total} (see {keep} for each row's reason)")
    raise ValueError(f"{stats['rejected']} of {total} rows rejected ({frac:.1%} > max_reject_fraction "
                     f"{max_frac}); see {keep} for each row's reason")


def _manifest(cfg: FeaturizeConfig, spec: FeaturizerSpec, key: str, input_records: list[dict[str, Any]],
              stats: dict[str, Any], seconds: float) -> dict[str, Any]:
    from datetime import datetime, timezone

    from harmony_mol import __version__
    from harmony_mol.config import config_to_dict

    for rec, (offset, n_rows) in zip(input_records, stats["offsets"]):
        rec["row_offset"], rec["n_rows"] = offset, n_rows
    return {
        "format_version": STORE_FORMAT_VERSION,
        "kind": spec.kind,
        "featurizer_spec": spec.to_dict(),
        "spec_key": spec.key(),
        "featurizer_version": FEATURIZER_VERSION,
        "cache_key": key,
        "request_key": request_key(cfg, spec.kind, input_records),
        "inputs": input_records,
        "target_names": stats["target_names"],
        "counts": {"rows": stats["rows"], "graphs": stats["graphs"], "rejected": stats["rejected"],
                   "duplicates": stats["duplicates"],
                   "nodes": sum(s["n_nodes"] for s in stats["shards"]),
                   "edges": sum(s["n_edges"] for s in stats["shards"])},
        "shards": stats["shards"],
        "fields": stats["fields"],
        "config": config_to_dict(cfg),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "harmony_version": __version__,
    }
