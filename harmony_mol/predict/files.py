"""File input and output of ``harmony predict`` / ``harmony embed``, streamed in chunks (bounded memory).

Molecule CSV / TSV (optionally gzipped) are read in chunks with every column kept as text, so the
output repeats the input columns exactly and appends the predictions and an ``error`` column.
Crystal CSVs with a CIF-string column are echoed the same way. ``.smi`` files (``SMILES [name]``
per line) give columns ``smiles``, ``name``. Other inputs (SDF,
CIF folders, POSCAR/extxyz files, JSON lines) go through ``featurizers.readers.read_items`` and
give ``row_id``, ``id`` columns plus the measured values they carry (an ``id_prop.csv`` folder's
``target``, ``target_1``, ... or its header names). Output is written to a temp file and renamed at the end.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from featurizers.errors import FeaturizationError
from featurizers.readers import CIF_COLUMN_NAMES, SMILES_COLUMN_NAMES, count_items, find_column, read_items
from featurizers.structures import CrystalText
from featurizers.text import has_undecodable, printable, undecodable_reason

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt.gz")


@dataclass(frozen=True)
class StreamStats:
    """Summary of a streamed run."""

    output: Path
    n_rows: int
    n_failed: int
    seconds: float

    @property
    def rows_per_s(self) -> float:
        """Throughput (NaN for a run that took no measurable time)."""
        return self.n_rows / self.seconds if self.seconds > 0 else float("nan")


#: Undecodable bytes are read as lone surrogates (``encoding_errors="surrogateescape"``).
_SURROGATE_RE = "[\udc80-\udcff]"
#: RFC 4180 line ends: the csv writer then quotes every field holding a CR or an LF, so the file reads
#: back with the same rows in pandas and in the ``csv`` module (with "\n" a bare CR was left unquoted).
CSV_LINE_END = "\r\n"


def _undecodable_rows(df: pd.DataFrame) -> dict[int, str]:
    """Chunk positions of rows holding bytes that are not UTF-8 -> reason; such cells are repaired (U+FFFD)."""
    bad: dict[int, str] = {}
    for col in df.columns:
        hit = df[col].str.contains(_SURROGATE_RE, regex=True, na=False)
        if not hit.any():
            continue
        for pos in np.flatnonzero(hit.to_numpy()):
            text = df.iat[pos, df.columns.get_loc(col)]
            bad.setdefault(int(pos), f"{undecodable_reason(text)} in column {printable(str(col))!r}")
        df[col] = df[col].map(printable)
    return bad


def iter_input_frames(path: Path, kind: str, smiles_column: str | None, chunk_size: int,
                      cif_column: str | None = None) -> Iterator[tuple[pd.DataFrame, list[Any]]]:
    """Yield ``(columns to echo, payloads)`` per chunk of the input file, in order.

    A row holding bytes that are not UTF-8 gets a ``FeaturizationError`` payload naming the byte and
    the column (the echoed cells show U+FFFD); the other rows are unaffected.
    """
    if path.is_file() and path.name.lower().endswith(CSV_SUFFIXES) and kind in ("molecule", "crystal"):
        sep = "\t" if ".tsv" in path.name.lower() else ","
        find = (smiles_column, SMILES_COLUMN_NAMES, "SMILES") if kind == "molecule" else \
            (cif_column, CIF_COLUMN_NAMES, "CIF")
        try:
            reader = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, chunksize=chunk_size,
                                 encoding="utf-8", encoding_errors="surrogateescape")
        except pd.errors.EmptyDataError:
            raise ValueError(f"{path}: empty file (no header row)") from None
        col, start = None, 0
        with reader:
            for df in reader:
                df.columns = [printable(str(c)) for c in df.columns]
                if col is None:
                    col = find_column(list(df.columns), *find, path)
                bad = _undecodable_rows(df)
                payloads: list[Any] = []
                for i, text in enumerate(df[col].tolist()):
                    if i in bad:
                        payloads.append(FeaturizationError(bad[i], start + i))
                    elif kind == "molecule":
                        payloads.append(text)
                    elif text.strip():
                        payloads.append(CrystalText("cif", text, f"row {start + i + 1}"))
                    else:
                        payloads.append(FeaturizationError("empty CIF", start + i))
                start += len(df)
                yield df, payloads
        return
    if kind == "molecule" and path.suffix.lower() in (".smi", ".txt") and path.is_file():
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
            lines = (ln.rstrip("\r\n") for ln in fh)
            start = 0
            for block in iter(lambda: list(itertools.islice(lines, chunk_size)), []):
                parts = [ln.strip().split(None, 1) for ln in block]
                smi = [p[0] if p else "" for p in parts]
                names = [p[1] if len(p) > 1 else "" for p in parts]
                pl: list[Any] = [FeaturizationError(str(undecodable_reason(ln)), start + i)
                                 if has_undecodable(ln) else s for i, (ln, s) in enumerate(zip(block, smi))]
                start += len(block)
                yield pd.DataFrame({"smiles": [printable(s) for s in smi],
                                    "name": [printable(n) for n in names]}), pl
        return
    names, items = read_items(path, kind, smiles_column=smiles_column, target_columns=[], cif_column=cif_column)
    for block in iter(lambda: list(itertools.islice(items, chunk_size)), []):
        df = pd.DataFrame({"row_id": [it.row_id for it in block], "id": [it.item_id for it in block]})
        # the measured values of an id_prop.csv folder (or JSON lines / extxyz keys) are input columns too
        for k, name in enumerate(names):
            if name not in df.columns:
                df[name] = [it.targets[k] if k < len(it.targets) else np.nan for it in block]
        yield df, [it.payload for it in block]


def check_no_clash(input_columns: list[str], added: list[str], path: Path) -> None:
    """Refuse an input that already has a column predict would write (its values would be lost)."""
    clash = [c for c in added if c in set(input_columns)]
    if clash:
        raise ValueError(f"{path}: input already has column(s) {clash} that predict writes; rename them "
                         "(input columns are never overwritten)")


def progress_bar(enabled: bool | None, src: Path, kind: str, desc: str) -> Any:
    """A tqdm bar whose total (hence ETA) is counted by :func:`featurizers.readers.count_items` when shown."""
    from tqdm.auto import tqdm

    from harmony_mol.utils.log import progress_enabled

    show = progress_enabled(enabled)
    return tqdm(total=count_items(src, kind) if show else None, unit=" rows", disable=not show, smoothing=0.1,
                dynamic_ncols=True, desc=desc)


def check_paths(src: Path, out: Path) -> None:
    """Refuse a missing input or an output that is a folder or the input itself; create the output's folder."""
    if not src.exists():
        raise FileNotFoundError(f"input not found: {src}")
    if out.is_dir():
        raise ValueError(f"{out}: is a folder; give a file name for --output (e.g. {out / 'predictions.csv'})")
    if out.exists() and out.resolve() == src.resolve():
        raise ValueError(f"{out}: is the input file; write the results to another file")
    out.parent.mkdir(parents=True, exist_ok=True)


def check_embedding_suffix(out: Path) -> None:
    """Refuse an embeddings output that is not ``.npy``, ``.csv`` or ``.parquet`` (with pyarrow installed)."""
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise ValueError("writing .parquet needs pyarrow (not installed); use .npy or .csv") from exc
    elif suffix not in (".npy", ".csv"):
        raise ValueError(f"embedding output must end in .npy, .csv or .parquet, got {out.name}")


def write_embeddings(out: Path, emb: np.ndarray, meta: pd.DataFrame) -> None:
    """Write embeddings ``emb [n, D]`` (NaN rows for failures) as ``.npy``, ``.csv`` or ``.parquet``.

    ``.npy`` gets a ``<name>.errors.csv`` with the failed rows of ``meta``; a table has ``meta``'s input
    columns, ``e0..e{D-1}`` and ``error``.
    """
    from harmony_mol.utils.io import atomic_open

    suffix = out.suffix.lower()
    if suffix == ".npy":
        with atomic_open(out, "wb") as fh:
            np.save(fh, emb)
        with atomic_open(out.with_suffix(".errors.csv"), "w", newline="") as fh:
            meta.assign(index=np.arange(len(meta)))[lambda d: d["error"] != ""].to_csv(
                fh, index=False, lineterminator=CSV_LINE_END)
        return
    full = pd.concat([meta.drop(columns="error"),
                      pd.DataFrame(emb, columns=[f"e{i}" for i in range(emb.shape[1])]), meta[["error"]]], axis=1)
    if suffix == ".parquet":
        with atomic_open(out, "wb") as fh:
            full.to_parquet(fh)
    else:
        with atomic_open(out, "w", newline="") as fh:
            full.to_csv(fh, index=False, lineterminator=CSV_LINE_END)
