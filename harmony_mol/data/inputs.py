"""Resolve a :class:`FeaturizeConfig`'s inputs, build the featurizer spec and stream chunks of items.

Rows are numbered with one running 0-based ``row_id`` across all inputs (per-input offsets go to
the manifest). Items the reader could not parse arrive with a ``FeaturizationError`` payload and
are passed through so they land in ``rejected.csv`` with their row.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from featurizers.items import RawItem
from featurizers.schema import FeaturizerSpec
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.data.registry import ResolvedInput, resolve

_CRYSTAL_SUFFIXES = (".cif", ".vasp", ".poscar", ".extxyz", ".xyz", ".json", ".jsonl", ".json.gz", ".jsonl.gz")
_MOLECULE_SUFFIXES = (".smi", ".smi.gz", ".sdf", ".sdf.gz", ".smiles")

#: One input row: (row in its file, file name, RawItem whose ``row_id`` is the global row).
ChunkItem = tuple[int, str, RawItem]


def detect_kind(path: Path) -> str:
    """``molecule`` or ``crystal`` from a file's name (and a CSV's header)."""
    name = path.name.lower()
    if path.is_dir() or name.startswith(("poscar", "contcar")) or name.endswith(_CRYSTAL_SUFFIXES):
        return "crystal"
    if name.endswith(_MOLECULE_SUFFIXES):
        return "molecule"
    if name.endswith((".csv", ".csv.gz", ".tsv")):
        header = [h.strip().lower() for h in csv_header(path)]
        return "crystal" if any(h in ("cif", "structure", "poscar") for h in header) else "molecule"
    raise ValueError(f"cannot tell whether {path} holds molecules or crystals; pass --kind")


def csv_header(path: Path) -> list[str]:
    """First row of a (possibly gzipped) CSV file."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:  # type: ignore[operator]
        return next(csv.reader(io.StringIO(fh.readline())), [])


def plan_inputs(cfg: FeaturizeConfig) -> tuple[list[ResolvedInput], str]:
    """Resolve names/paths, apply the config's column options, check one kind for all inputs."""
    plans: list[ResolvedInput] = []
    for text in cfg.inputs:
        for r in resolve(text, cfg.data_dir):
            kind = r.kind or cfg.kind or detect_kind(r.path)
            targets = r.target_columns
            if cfg.target_columns is not None:
                targets = tuple(cfg.target_columns)
            elif targets is None and r.exclude_columns and r.path.is_file():
                targets = tuple(c for c in csv_header(r.path) if c not in r.exclude_columns)
            plans.append(replace(
                r, kind=kind, target_columns=targets,  # type: ignore[arg-type]
                smiles_column=cfg.smiles_column or r.smiles_column,
                cif_column=cfg.cif_column or r.cif_column, id_column=cfg.id_column or r.id_column))
    kinds = {p.kind for p in plans}
    if cfg.kind is not None and kinds != {cfg.kind}:
        bad = [str(p.path) for p in plans if p.kind != cfg.kind]
        raise ValueError(f"--kind {cfg.kind} but these inputs are not: {', '.join(bad)}")
    if len(kinds) != 1:
        raise ValueError(f"inputs mix molecules and crystals ({sorted(kinds)}); featurize them separately")
    return plans, kinds.pop()  # type: ignore[return-value]


def make_spec(cfg: FeaturizeConfig, kind: str) -> FeaturizerSpec:
    """The featurizer spec for this run (H1's ``molecule_spec`` / ``crystal_spec``)."""
    if kind == "molecule":
        from featurizers.molecule import molecule_spec

        return molecule_spec(preset=cfg.preset or "harmony", max_atoms=cfg.max_atoms or 200)
    from featurizers.crystal import crystal_spec

    if cfg.preset not in (None, "crystal"):
        raise ValueError(f"unknown crystal preset {cfg.preset!r} (use 'crystal')")
    kw: dict[str, Any] = {"cutoff": cfg.cutoff, "max_neighbors": cfg.max_neighbors,
                          "n_gaussians": cfg.n_gaussians, "max_atoms": cfg.max_atoms or 500}
    if cfg.max_volume_per_atom is not None:
        kw["max_volume_per_atom"] = cfg.max_volume_per_atom
    return crystal_spec(**kw)


def _reader_kwargs(plan: ResolvedInput) -> dict[str, Any]:
    wanted = {"smiles_column": plan.smiles_column, "target_columns": plan.target_columns,
              "id_column": plan.id_column, "cif_column": plan.cif_column}
    return {k: list(v) if k == "target_columns" else v for k, v in wanted.items() if v is not None}


def source_text(kind: str, item: Any) -> str:
    """What ``index.csv.gz`` / ``rejected.csv`` show as the input: the SMILES, else the item id."""
    from featurizers.errors import FeaturizationError
    from featurizers.text import printable

    if kind == "molecule" and isinstance(item.payload, str):
        return printable(item.payload)
    if kind == "molecule" and isinstance(item.payload, FeaturizationError) and item.payload.source:
        return printable(item.payload.source)  # the SMILES of a row rejected for its label, not its number
    return printable(str(item.item_id))


def iter_inputs(plans: list[ResolvedInput], cfg: FeaturizeConfig, stats: dict[str, Any],
                dup_writer: Any) -> Iterator[list[ChunkItem]]:
    """Yield chunks of ``(local_row, file name, RawItem)`` across all inputs (see :data:`ChunkItem`).

    Fills ``stats``: ``target_names``, ``offsets`` (row offset and row count per input), ``rows``,
    ``duplicates`` (rows dropped by dedupe, written to ``dup_writer``).
    """
    from featurizers.readers import read_items

    seen: dict[bytes, int] = {}
    offset = 0
    stats["offsets"] = []
    chunk: list[ChunkItem] = []
    for plan in plans:
        names, items = read_items(plan.path, plan.kind, **_reader_kwargs(plan))
        names = list(names)
        if "target_names" not in stats:
            stats["target_names"] = names
        elif names != stats["target_names"]:
            raise ValueError(f"{plan.path}: label columns {names} differ from the first input's "
                             f"{stats['target_names']}; featurize them separately or pass --target-column")
        fname = plan.path.name
        n_rows = 0
        for item in items:
            n_rows += 1
            row_id = offset + int(item.row_id)
            if cfg.dedupe and isinstance(item.payload, str):
                h = hashlib.blake2b(item.payload.encode(), digest_size=12).digest()
                first = seen.setdefault(h, row_id)
                if first != row_id:
                    stats["duplicates"] += 1
                    dup_writer.writerow([int(item.row_id) + 1, row_id, item.payload, first, fname])
                    continue
            chunk.append((int(item.row_id), fname, replace(item, row_id=row_id)))
            if len(chunk) >= cfg.chunk_size:
                yield chunk
                chunk = []
        stats["offsets"].append((offset, n_rows))
        offset += n_rows
    stats["rows"] = offset
    stats.setdefault("target_names", [])
    if chunk:
        yield chunk

