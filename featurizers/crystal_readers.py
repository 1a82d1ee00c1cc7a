"""Crystal readers behind :func:`featurizers.readers.read_items` (folders, JSON lines, extxyz, single files)."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from featurizers.errors import FeaturizationError
from featurizers.items import RawItem, parse_target
from featurizers.structures import CrystalText, structure_from_atoms
from featurizers.text import has_undecodable, printable, undecodable_reason

_POSCAR_NAMES = ("POSCAR", "CONTCAR")
STRUCTURE_SUFFIXES = (".cif", ".vasp", ".poscar", ".extxyz", ".xyz")


def text_format(path: Path) -> str | None:
    """``cif`` / ``poscar`` / ``extxyz`` from a file name, ``None`` if unknown."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".cif", ".mcif")):
        return "cif"
    if name.endswith((".vasp", ".poscar")) or path.name.upper().startswith(_POSCAR_NAMES):
        return "poscar"
    if name.endswith((".xyz", ".extxyz")):
        return "extxyz"
    return None


def _read_text(path: Path) -> str:
    with (gzip.open if path.name.endswith(".gz") else open)(path, "rt", encoding="utf-8", errors="replace") as fh:
        return fh.read()


def _file_payload(path: Path, row_id: int) -> object:
    fmt = text_format(path)
    if fmt is None or fmt == "extxyz":
        return FeaturizationError(f"unsupported structure file {path.name!r}", row_id, path.name)
    try:
        return CrystalText(fmt, _read_text(path), path.name)
    except OSError as exc:
        return FeaturizationError(f"cannot read file: {exc}", row_id, path.name)


def file_items(path: Path) -> Iterator[RawItem]:
    """A single CIF / POSCAR file: one item."""
    yield RawItem(0, path.stem, _file_payload(path, 0), ())


def extxyz_items(path: Path, targets: Sequence[str]) -> Iterator[RawItem]:
    """Every frame of an extxyz file; targets from ``atoms.info``. A corrupt frame ends the file."""
    from ase.io import iread

    frames = iread(str(path), index=":", format="extxyz")
    for row_id in itertools.count():
        try:
            atoms = next(frames)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - ase cannot resynchronise after a bad frame
            err = FeaturizationError(f"extxyz frame unreadable (rest of file skipped): {exc}", row_id, path.name)
            yield RawItem(row_id, f"{path.stem}:{row_id}", err, tuple(math.nan for _ in targets))
            return
        item_id = str(atoms.info.get("id", atoms.info.get("name", f"{path.stem}:{row_id}")))
        try:
            ys = tuple(parse_target(_frame_value(atoms, t), t, row_id) for t in targets)
            payload: object = structure_from_atoms(atoms, row_id, item_id)
        except FeaturizationError as exc:
            yield RawItem(row_id, item_id, exc, tuple(math.nan for _ in targets))
        else:
            yield RawItem(row_id, item_id, payload, ys)


def _frame_value(atoms: Any, key: str) -> Any:
    """``atoms.info[key]``, else the calculator result ASE moved it to (``energy``, ``stress``, ...)."""
    if key in atoms.info:
        return atoms.info[key]
    results = getattr(atoms.calc, "results", None) or {}
    value = results.get(key)
    return None if value is None or getattr(value, "ndim", 0) else value


def _structure_files(path: Path) -> list[Path]:
    return sorted(f for f in path.iterdir() if f.is_file() and text_format(f) in ("cif", "poscar"))


def _open_id_prop(id_prop: Path) -> IO[str]:
    return open(id_prop, encoding="utf-8", errors="surrogateescape", newline="")


def _has_header(first: list[str]) -> bool:
    """Whether the first row of ``id_prop.csv`` is a header (its second cell is not a number)."""
    if len(first) < 2:
        return False
    try:
        float(first[1].strip())
    except ValueError:
        return True
    return False


def count_folder_items(path: Path) -> int:
    """How many items :func:`folder_items` yields (rows of ``id_prop.csv``, else structure files)."""
    id_prop = path / "id_prop.csv"
    if not id_prop.is_file():
        return len(_structure_files(path))
    with _open_id_prop(id_prop) as fh:
        reader = csv.reader(fh)
        first = next(reader, [])
        n = sum(1 for _ in reader) + (1 if first else 0)
    return n - _has_header(first)


def folder_items(path: Path, target_columns: Sequence[str] | None) -> tuple[list[str], Iterator[RawItem]]:
    """A folder with ``id_prop.csv`` (no header: ``id,target...``) or, without it, all structure files."""
    id_prop = path / "id_prop.csv"
    if not id_prop.is_file():
        files = _structure_files(path)
        stems = Counter(f.stem for f in files)
        # ids are the stems, unless two files share one (a.cif, a.vasp): then the file names
        return [], (RawItem(i, f.stem if stems[f.stem] == 1 else f.name, _file_payload(f, i), ())
                    for i, f in enumerate(files))
    with _open_id_prop(id_prop) as fh:
        first = next(csv.reader(fh), [])
    has_header = _has_header(first)
    n_t = max(len(first) - 1, 0)
    names = [c.strip() for c in first[1:]] if has_header else ["target"] + [f"target_{i}" for i in range(1, n_t)]
    wanted = list(target_columns) if target_columns else names
    for t in wanted:
        if t not in names:
            raise ValueError(f"{id_prop}: no target {t!r}; targets are {names}")
    cols = [names.index(t) + 1 for t in wanted]

    def gen() -> Iterator[RawItem]:
        with _open_id_prop(id_prop) as fh:
            reader = csv.reader(fh)
            if has_header:
                next(reader, None)
            for row_id, row in enumerate(reader):
                item_id = row[0].strip() if row else ""
                bad = next((undecodable_reason(c) for c in row if has_undecodable(c)), None)
                if bad is not None:
                    err = FeaturizationError(f"id_prop.csv: {bad}", row_id, printable(item_id))
                    yield RawItem(row_id, printable(item_id), err, tuple(math.nan for _ in cols))
                    continue
                try:
                    ys = tuple(parse_target(row[c] if c < len(row) else None, names[c - 1], row_id) for c in cols)
                except FeaturizationError as exc:
                    yield RawItem(row_id, item_id, exc, tuple(math.nan for _ in cols))
                    continue
                f = resolve_structure_file(path, item_id)
                payload = (_file_payload(f, row_id) if f is not None else
                           FeaturizationError(f"no structure file for id {item_id!r} in {path.name}", row_id, item_id))
                yield RawItem(row_id, item_id, payload, ys)

    return wanted, gen()


def resolve_structure_file(folder: Path, item_id: str) -> Path | None:
    """The structure file of ``item_id`` in an ``id_prop.csv`` folder (as the reader finds it), or ``None``."""
    if not item_id:
        return None
    for cand in [item_id] + [item_id + s for s in STRUCTURE_SUFFIXES] + [f"POSCAR-{item_id}.vasp"]:
        f = folder / cand
        if f.is_file():
            return f
    return None


def json_items(path: Path, target_columns: Sequence[str] | None) -> tuple[list[str], Iterator[RawItem]]:
    """JSON lines of ``{"structure": <pymatgen dict>, <target>: value, ...}`` (also ``.json.gz``)."""

    def lines() -> Iterator[str]:
        raw = gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")
        with io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape") as fh:
            yield from fh

    names = list(target_columns) if target_columns else None
    if names is None:  # every numeric key of the first record except the structure
        first = next((ln for ln in lines() if ln.strip()), "")
        try:
            rec = json.loads(first)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not JSON lines ({exc})") from None
        names = [k for k, v in rec.items() if k != "structure" and isinstance(v, (int, float))]

    def gen() -> Iterator[RawItem]:
        for row_id, line in enumerate(ln for ln in lines() if ln.strip()):
            item_id = str(row_id + 1)
            try:
                if has_undecodable(line):
                    raise FeaturizationError(undecodable_reason(line) or "invalid UTF-8", row_id, item_id)
                rec: Any = json.loads(line)
                if not isinstance(rec, dict) or "structure" not in rec:
                    raise FeaturizationError("JSON record has no 'structure' key", row_id, item_id)
                item_id = str(rec.get("id", rec.get("material_id", item_id)))
                ys = tuple(parse_target(rec.get(t), t, row_id) for t in names)
            except json.JSONDecodeError as exc:
                err = FeaturizationError(f"invalid JSON: {exc}", row_id, item_id)
                yield RawItem(row_id, item_id, err, tuple(math.nan for _ in names))
            except FeaturizationError as exc:
                yield RawItem(row_id, item_id, exc, tuple(math.nan for _ in names))
            else:
                yield RawItem(row_id, item_id, rec["structure"], ys)

    return names, gen()
