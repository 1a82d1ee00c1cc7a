"""Streaming file prediction / embedding with bounded memory.

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
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

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
        return self.n_rows / self.seconds if self.seconds > 0 else float("nan")


def _is_csv(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and name.endswith(CSV_SUFFIXES)


def find_smiles_column(columns: list[str], wanted: str | None, path: str | Path = "input") -> str:
    """``wanted`` if given (must exist), else the first column named like SMILES (the same finder and
    names as ``harmony featurize``: :data:`featurizers.readers.SMILES_COLUMN_NAMES`); never a guess."""
    from featurizers.readers import SMILES_COLUMN_NAMES, find_column

    return find_column(columns, wanted, SMILES_COLUMN_NAMES, "SMILES", path)


#: Undecodable bytes are read as lone surrogates (``encoding_errors="surrogateescape"``).
_SURROGATE_RE = "[\udc80-\udcff]"
#: RFC 4180 line ends: the csv writer then quotes every field holding a CR or an LF, so the file reads
#: back with the same rows in pandas and in the ``csv`` module (with "\n" a bare CR was left unquoted).
CSV_LINE_END = "\r\n"


def _read_csv_chunks(path: Path, sep: str, chunk_size: int) -> Iterator[pd.DataFrame]:
    try:
        reader = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, chunksize=chunk_size,
                             encoding="utf-8", encoding_errors="surrogateescape")
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: empty file (no header row)") from None
    with reader:
        yield from reader


def _undecodable_rows(df: pd.DataFrame) -> dict[int, str]:
    """Chunk positions of rows holding bytes that are not UTF-8 -> reason; repairs those cells in place
    (U+FFFD) so the output stays valid UTF-8."""
    from featurizers.text import printable, undecodable_reason

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
    from featurizers.errors import FeaturizationError
    from featurizers.text import printable

    if _is_csv(path) and kind in ("molecule", "crystal"):
        from featurizers.readers import CIF_COLUMN_NAMES, find_column
        from featurizers.structures import CrystalText

        sep = "\t" if ".tsv" in path.name.lower() else ","
        col, start = None, 0
        for df in _read_csv_chunks(path, sep, chunk_size):
            if col is None:
                df.columns = [printable(str(c)) for c in df.columns]
                if kind == "molecule":
                    col = find_smiles_column(list(df.columns), smiles_column, path)
                else:
                    col = find_column(list(df.columns), cif_column, CIF_COLUMN_NAMES, "CIF", path)
            else:
                df.columns = [printable(str(c)) for c in df.columns]
            bad = _undecodable_rows(df)
            values = df[col].tolist()
            payloads: list[Any] = []
            for i, text in enumerate(values):
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
        from featurizers.text import has_undecodable, undecodable_reason

        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
            lines = (ln.rstrip("\r\n") for ln in fh)
            start = 0
            while True:
                block = list(itertools.islice(lines, chunk_size))
                if not block:
                    return
                parts = [ln.strip().split(None, 1) for ln in block]
                smi = [p[0] if p else "" for p in parts]
                names = [p[1] if len(p) > 1 else "" for p in parts]
                pl: list[Any] = [FeaturizationError(str(undecodable_reason(ln)), start + i)
                                 if has_undecodable(ln) else s for i, (ln, s) in enumerate(zip(block, smi))]
                start += len(block)
                yield pd.DataFrame({"smiles": [printable(s) for s in smi],
                                    "name": [printable(n) for n in names]}), pl
    from featurizers.readers import read_items

    kw: dict[str, Any] = {"target_columns": []}
    if smiles_column is not None:
        kw["smiles_column"] = smiles_column
    if cif_column is not None:
        kw["cif_column"] = cif_column
    names, items = read_items(path, kind, **kw)
    while True:
        block = list(itertools.islice(items, chunk_size))
        if not block:
            return
        df = pd.DataFrame({"row_id": [it.row_id for it in block], "id": [it.item_id for it in block]})
        # the measured values of an id_prop.csv folder (or JSON lines / extxyz keys) are input columns too
        for k, name in enumerate(names):
            if name not in df.columns:
                df[name] = [it.targets[k] if k < len(it.targets) else np.nan for it in block]
        yield df, [it.payload for it in block]


def output_columns(target_names: list[str], ensemble: bool) -> list[str]:
    """Columns ``predict`` appends: ``<target>_pred`` (and ``<target>_std`` for ensembles) per target, ``error``."""
    cols = []
    for name in target_names:
        cols.append(f"{name}_pred")
        if ensemble:
            cols.append(f"{name}_std")
    return cols + ["error"]


def check_no_clash(input_columns: list[str], added: list[str], path: Path) -> None:
    """Refuse an input that already has a column predict would write (its values would be lost)."""
    clash = [c for c in added if c in set(input_columns)]
    if clash:
        raise ValueError(f"{path}: input already has column(s) {clash} that predict writes; rename them "
                         "(input columns are never overwritten)")


def _progress(enabled: bool | None, unit: str, src: Path, kind: str, desc: str) -> Any:
    """A tqdm bar with a total (hence an ETA): the input's rows are counted in one cheap pass first,
    only when the bar is shown (see :func:`featurizers.readers.count_items`)."""
    from tqdm.auto import tqdm

    from harmony_mol.utils.log import progress_enabled

    show = progress_enabled(enabled)
    total = None
    if show:
        from featurizers.readers import count_items

        total = count_items(src, kind)
    return tqdm(total=total, unit=f" {unit}s", disable=not show, smoothing=0.1, dynamic_ncols=True, desc=desc)


def check_output_path(src: Path, out: Path) -> None:
    """One-line errors for an output path that cannot be a results file (a folder, the input itself)."""
    if out.is_dir():
        raise ValueError(f"{out}: is a folder; give a file name for --output (e.g. {out / 'predictions.csv'})")
    if out.exists() and src.exists() and out.resolve() == src.resolve():
        raise ValueError(f"{out}: is the input file; write the results to another file")


def predict_file(predictor: Any, input_path: str | Path, output_path: str | Path, smiles_column: str | None = None,
                 cif_column: str | None = None, chunk_size: int = 8192, progress: bool | None = None) -> StreamStats:
    """Stream ``input_path`` through ``predictor`` (a :class:`harmony_mol.predict.Predictor`) into a CSV.

    Memory is bounded by ``chunk_size`` rows (times the featurizing pool's in-flight chunks).
    """
    from harmony_mol.finetune.infer import featurize_stream
    from harmony_mol.utils.io import atomic_open

    t0 = time.perf_counter()
    src, out = Path(input_path), Path(output_path)
    if not src.exists():
        raise FileNotFoundError(f"input not found: {src}")
    frames: list[pd.DataFrame] = []

    def payloads() -> Iterator[list[Any]]:
        for df, pl in iter_input_frames(src, predictor.kind, smiles_column, chunk_size, cif_column):
            frames.append(df)
            yield pl

    n_rows = n_failed = 0
    check_output_path(src, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    bar = _progress(progress, "row", src, predictor.kind, "predict")
    added = output_columns(predictor.target_names, predictor.is_ensemble)
    with atomic_open(out, "w", encoding="utf-8", newline="") as fh:
        header = True
        for ch in featurize_stream(payloads(), predictor.bundle.featurizer_spec, predictor.workers):
            df = frames.pop(0)
            if header:
                check_no_clash(list(df.columns), added, src)
            mean, std, errs = predictor.predict_chunk(ch)
            df = df.copy()
            for k, name in enumerate(predictor.target_names):
                df[f"{name}_pred"] = mean[:, k]
                if predictor.is_ensemble:
                    df[f"{name}_std"] = std[:, k]
            df["error"] = errs
            df.to_csv(fh, header=header, index=False, lineterminator=CSV_LINE_END)
            header = False
            n_rows += len(df)
            n_failed += sum(1 for e in errs if e)
            bar.update(len(df))
    bar.close()
    stats = StreamStats(out, n_rows, n_failed, time.perf_counter() - t0)
    logger.info("predicted %d rows (%d failed to featurize) into %s in %.1f s (%.0f rows/s)",
                n_rows, n_failed, out, stats.seconds, stats.rows_per_s)
    return stats


def embed_file(predictor: Any, input_path: str | Path, output_path: str | Path, smiles_column: str | None = None,
               cif_column: str | None = None, chunk_size: int = 8192, progress: bool | None = None) -> StreamStats:
    """Graph embeddings of every input row: ``.npy`` ``[n, D]`` (NaN rows for failures, plus a
    ``<name>.errors.csv`` with the failed rows), or ``.csv`` (input columns + ``e0..e{D-1}`` + ``error``).
    ``.parquet`` needs pyarrow, which is not a dependency."""
    from harmony_mol.finetune.infer import featurize_stream
    from harmony_mol.utils.io import atomic_open

    t0 = time.perf_counter()
    src, out = Path(input_path), Path(output_path)
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise ValueError("writing .parquet needs pyarrow (not installed); use .npy or .csv") from exc
    elif suffix not in (".npy", ".csv"):
        raise ValueError(f"embedding output must end in .npy, .csv or .parquet, got {out.name}")
    if not src.exists():
        raise FileNotFoundError(f"input not found: {src}")
    frames: list[pd.DataFrame] = []

    def payloads() -> Iterator[list[Any]]:
        for df, pl in iter_input_frames(src, predictor.kind, smiles_column, chunk_size, cif_column):
            frames.append(df)
            yield pl

    embs, metas, n_failed = [], [], 0
    bar = _progress(progress, "row", src, predictor.kind, "embed")
    for ch in featurize_stream(payloads(), predictor.bundle.featurizer_spec, predictor.workers):
        df = frames.pop(0).copy()
        emb, errs = predictor.embed_chunk(ch)
        df["error"] = errs
        n_failed += sum(1 for e in errs if e)
        embs.append(emb)
        metas.append(df)
        bar.update(len(df))
    bar.close()
    emb = np.concatenate(embs) if embs else np.zeros((0, predictor.members[0].readout.out_dim), np.float32)
    meta = pd.concat(metas, ignore_index=True) if metas else pd.DataFrame({"error": []})
    check_output_path(src, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".npy":
        with atomic_open(out, "wb") as fh:
            np.save(fh, emb)
        with atomic_open(out.with_suffix(".errors.csv"), "w", newline="") as fh:
            meta.assign(index=np.arange(len(meta)))[lambda d: d["error"] != ""].to_csv(
                fh, index=False, lineterminator=CSV_LINE_END)
    else:
        full = pd.concat([meta.drop(columns="error"),
                          pd.DataFrame(emb, columns=[f"e{i}" for i in range(emb.shape[1])]), meta[["error"]]], axis=1)
        with atomic_open(out, "wb" if suffix == ".parquet" else "w", **({} if suffix == ".parquet" else {"newline": ""})) as fh:
            full.to_parquet(fh) if suffix == ".parquet" else full.to_csv(fh, index=False, lineterminator=CSV_LINE_END)
    stats = StreamStats(out, len(meta), n_failed, time.perf_counter() - t0)
    logger.info("embedded %d rows (%d failed) into %s (%d dims) in %.1f s", stats.n_rows, n_failed, out,
                emb.shape[1], stats.seconds)
    return stats
