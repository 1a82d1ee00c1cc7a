"""Streaming readers: input files -> :class:`~featurizers.items.RawItem` (one per molecule / structure, in input order).

Molecules: CSV / TSV (optionally ``.gz``; choose the SMILES and target columns), ``.smi`` (``SMILES
[name]`` per line), SDF (``.sdf`` / ``.sdf.gz``). Crystals: a CIF, POSCAR / CONTCAR / ``.vasp`` file, an
extxyz file (every frame is an item), a folder with ``id_prop.csv`` (CGCNN/ALIGNN convention: no header,
``file_or_id,target...``) or without (every structure file, sorted), a CSV with a CIF-string column, and
JSON lines (``.json[l][.gz]``) of ``{"structure": <pymatgen dict>, <target>: value, ...}``.

Nothing is loaded whole (except a folder listing): the returned iterator reads lazily. An item that cannot
be read (non-numeric target, bad SDF record, bad frame) becomes a ``RawItem`` whose payload is a
:class:`FeaturizationError`; row ids are never shifted.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from featurizers import crystal_readers as cr
from featurizers.errors import FeaturizationError
from featurizers.items import RawItem, parse_target
from featurizers.structures import CrystalText
from featurizers.text import has_undecodable, printable, undecodable_reason

SMILES_COLUMN_NAMES = ("smiles", "canonical_smiles", "smiles_string", "smi", "mol", "molecule")
CIF_COLUMN_NAMES = ("cif", "structure_cif")
ID_COLUMN_NAMES = ("id", "material_id", "mol_id", "name", "compound id", "cif_id")


def _open_text(path: Path) -> IO[str]:
    """Text with undecodable bytes kept as lone surrogates (flagged per row, see :mod:`featurizers.text`)."""
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="surrogateescape", newline="")
    return open(path, encoding="utf-8", errors="surrogateescape", newline="")


def _base_suffix(path: Path) -> str:
    return Path(path.name.lower().removesuffix(".gz")).suffix


def _delimiter(path: Path) -> str:
    return "\t" if _base_suffix(path) == ".tsv" else ","


def detect_kind(path: str | Path) -> str:
    """Guess ``molecule`` or ``crystal`` from the path (CSV defaults to molecule unless it has a CIF column)."""
    p = Path(path)
    if p.is_dir():
        return "crystal"
    suf = _base_suffix(p)
    if suf in (".smi", ".smiles", ".sdf", ".sd", ".mol"):
        return "molecule"
    if suf in (".csv", ".tsv", ".txt"):
        with _open_text(p) as fh:
            header = next(csv.reader(fh, delimiter=_delimiter(p)), [])
        return "crystal" if any(h.strip().lower() in CIF_COLUMN_NAMES for h in header) else "molecule"
    return "crystal"


def _pick(header: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str, path: Path) -> str | None:
    if wanted is not None:
        if wanted not in header:
            raise ValueError(f"{path}: no {what} column {wanted!r}; columns are {list(header)}")
        return wanted
    lower = {h.strip().lower(): h for h in header}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    return None


def find_column(header: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str,
                path: str | Path) -> str:
    """The input column to read (the one column finder of featurize, fine-tuning and predict).

    ``wanted`` must exist; when it is ``None``, the first header named like one of ``candidates``
    (case-insensitive).

    Raises:
        ValueError: ``wanted`` is not a column, or no column is named like a candidate (message names
            the file, its columns and the option to pass).
    """
    col = _pick(header, wanted, candidates, what, Path(path))
    if col is None:
        flag = "--cif-column" if what == "CIF" else "--smiles-column"
        raise ValueError(f"{path}: no {what} column found among {list(header)} (detected names: "
                         f"{list(candidates)}); pass {flag}")
    return col


def read_items(path: str | Path, kind: str | None = None, smiles_column: str | None = None,
               target_columns: Sequence[str] | None = None, id_column: str | None = None,
               cif_column: str | None = None) -> tuple[list[str], Iterator[RawItem]]:
    """Open an input and return ``(target_names, lazy iterator of RawItem)``.

    Args:
        path: File or folder.
        kind: ``molecule`` or ``crystal``; guessed by :func:`detect_kind` when ``None``.
        smiles_column: SMILES column of a CSV (default: first of ``smiles``, ``canonical_smiles``, ...).
        target_columns: Target columns (CSV), SDF properties, extxyz ``info`` keys or JSON keys; for
            ``id_prop.csv`` a subset of ``target``, ``target_1``, .... ``None`` = no targets, except
            ``id_prop.csv`` (all its targets) and JSON lines (every numeric key but ``structure``).
        id_column: Column giving item ids (default: an ``id``-like column, else the row number).
        cif_column: CIF-string column of a crystal CSV (default ``cif``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: Unknown format or a named column that does not exist.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"input not found: {p}")
    kind = kind or detect_kind(p)
    if kind not in ("molecule", "crystal"):
        raise ValueError(f"kind must be 'molecule' or 'crystal', got {kind!r}")
    targets = list(target_columns) if target_columns else []
    suf = _base_suffix(p)
    if kind == "molecule":
        if suf in (".csv", ".tsv", ".txt"):
            return _csv_items(p, smiles_column, targets, id_column, SMILES_COLUMN_NAMES, "SMILES", lambda v, s: v)
        if suf in (".smi", ".smiles"):
            return [], _smi_items(p)
        if suf in (".sdf", ".sd"):
            return targets, _sdf_items(p, targets, id_column)
        raise ValueError(f"unsupported molecule input {p.name!r} (use .csv, .csv.gz, .tsv, .smi or .sdf)")
    if p.is_dir():
        return cr.folder_items(p, target_columns)
    if suf in (".csv", ".tsv", ".txt"):
        return _csv_items(p, cif_column, targets, id_column, CIF_COLUMN_NAMES, "CIF",
                          lambda v, s: CrystalText("cif", v, s))
    if suf in (".json", ".jsonl"):
        return cr.json_items(p, target_columns)
    if suf in (".xyz", ".extxyz"):
        return targets, cr.extxyz_items(p, targets)
    return [], cr.file_items(p)


def _csv_items(path: Path, column: str | None, targets: list[str], id_column: str | None, candidates: Sequence[str],
               what: str, wrap: Any) -> tuple[list[str], Iterator[RawItem]]:
    delim = _delimiter(path)
    csv.field_size_limit(1 << 28)  # CIF strings can exceed the 128 KiB default
    with _open_text(path) as fh:
        header = next(csv.reader(fh, delimiter=delim), None)
    if not header:
        raise ValueError(f"{path}: empty file (no header row)")
    col = find_column(header, column, candidates, what, path)
    for t in targets:
        _pick(header, t, (), "target", path)
    id_col = _pick(header, id_column, ID_COLUMN_NAMES, "id", path)

    def gen() -> Iterator[RawItem]:
        with _open_text(path) as fh:
            reader = csv.DictReader(fh, delimiter=delim)
            for row_id, row in enumerate(reader):
                item_id = printable((row.get(id_col) or "").strip() if id_col else "") or str(row_id + 1)
                value = row.get(col)
                bad = _undecodable_row(row)
                if bad is not None:
                    err = FeaturizationError(bad, row_id, printable(value or "")[:200])
                    yield RawItem(row_id, item_id, err, tuple(math.nan for _ in targets))
                    continue
                try:
                    ys = tuple(parse_target(row.get(t), t, row_id) for t in targets)
                except FeaturizationError as exc:
                    exc.source = (value or "")[:200]
                    yield RawItem(row_id, item_id, exc, tuple(math.nan for _ in targets))
                    continue
                payload = (wrap(value, item_id) if value is not None
                           else FeaturizationError(f"row has no {what} cell (ragged row)", row_id, ""))
                yield RawItem(row_id, item_id, payload, ys)

    return targets, gen()


def _undecodable_row(row: dict[Any, Any]) -> str | None:
    """The reason a CSV row holds bytes that are not UTF-8 (naming the column), else ``None``."""
    for key, val in row.items():
        for text in (val if isinstance(val, list) else [val]):
            if isinstance(text, str) and has_undecodable(text):
                name = "extra fields" if key is None else repr(printable(str(key)))
                return f"{undecodable_reason(text)} in column {name}"
    return None


def _smi_items(path: Path) -> Iterator[RawItem]:
    with _open_text(path) as fh:
        row_id = 0
        for line_no, line in enumerate(fh):
            parts = line.split()
            if line_no == 0 and parts and parts[0].lower() in ("smiles", "smi"):
                continue  # header line
            smi = parts[0] if parts else ""
            name = " ".join(parts[1:]) if len(parts) > 1 else str(row_id + 1)
            if has_undecodable(line):
                err = FeaturizationError(f"{undecodable_reason(line.rstrip())}", row_id, printable(smi))
                yield RawItem(row_id, printable(name), err, ())
            else:
                yield RawItem(row_id, name, smi, ())
            row_id += 1


def _sdf_items(path: Path, targets: list[str], id_column: str | None) -> Iterator[RawItem]:
    from rdkit import Chem, rdBase

    raw = gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")
    with raw:
        supplier = Chem.ForwardSDMolSupplier(raw, sanitize=True, removeHs=True)
        row_id = 0
        while True:
            with rdBase.CaptureErrorLog() as cap:
                try:
                    mol = next(supplier)
                except StopIteration:
                    break
            if mol is None:
                msgs = [ln.split("]", 1)[-1].strip() for ln in cap.messages.splitlines() if ln.strip()]
                reason = msgs[0] if msgs else "unreadable SDF record"
                err = FeaturizationError(f"SDF record: {reason}", row_id, f"record {row_id + 1}")
                yield RawItem(row_id, str(row_id + 1), err, tuple(math.nan for _ in targets))
                row_id += 1
                continue
            item_id = mol.GetProp(id_column) if id_column and mol.HasProp(id_column) else mol.GetProp("_Name")
            item_id = item_id.strip() or str(row_id + 1)
            smi = Chem.MolToSmiles(mol)
            try:
                ys = tuple(parse_target(mol.GetProp(t) if mol.HasProp(t) else None, t, row_id) for t in targets)
            except FeaturizationError as exc:
                exc.source = smi
                yield RawItem(row_id, item_id, exc, tuple(math.nan for _ in targets))
            else:
                yield RawItem(row_id, item_id, smi, ys)
            row_id += 1


def count_items(path: str | Path, kind: str | None = None) -> int | None:
    """How many items :func:`read_items` will yield for ``path``, for a progress bar's total and ETA.

    One cheap pass: CSV records (a quoted multi-line CIF cell counts once), lines of ``.smi`` / JSON
    lines, ``$$$$`` records of an SDF, rows of ``id_prop.csv`` or the structure files of a folder.
    ``None`` when that cannot be told without parsing (extxyz, single structure files). ``kind`` is
    accepted for symmetry with :func:`read_items`; the count does not depend on it.
    """
    p = Path(path)
    try:
        kind = kind or detect_kind(p)
        if p.is_dir():
            return cr.count_folder_items(p)
        suf = _base_suffix(p)
        if suf in (".csv", ".tsv", ".txt"):
            csv.field_size_limit(1 << 28)
            with _open_text(p) as fh:
                n = sum(1 for row in csv.reader(fh, delimiter=_delimiter(p)) if row)
            return max(n - 1, 0)
        if suf in (".smi", ".smiles"):  # every line is a row (a blank one is rejected), but a header
            with _open_text(p) as fh:
                first = fh.readline()
                n = (1 if first else 0) + sum(1 for _ in fh)
            head = first.split()
            return n - (1 if head and head[0].lower() in ("smiles", "smi") else 0)
        if suf in (".json", ".jsonl"):
            with _open_text(p) as fh:
                return sum(1 for ln in fh if ln.strip())
        if suf in (".sdf", ".sd"):
            with (gzip.open if p.name.endswith(".gz") else open)(p, "rb") as fh:
                return sum(1 for ln in fh if ln.rstrip(b"\r\n") == b"$$$$")
    except (OSError, ValueError, EOFError):
        return None
    return None
