"""Streaming file prediction / embedding with bounded memory.

Molecule CSV / TSV (optionally gzipped) are read in chunks with every column kept as text, so the
output repeats the input columns exactly and appends the predictions and an ``error`` column.
Crystal CSVs with a CIF-string column are echoed the same way. ``.smi`` files (``SMILES [name]``
per line) give columns ``smiles``, ``name``. Other inputs (SDF,
CIF folders, POSCAR/extxyz files, JSON lines) go through ``featurizers.readers.read_items`` and
give ``row_id``, ``id`` columns. Output is written to a temp file and renamed at the end.
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

SMILES_NAMES = ("smiles", "canonical_smiles", "smi", "mol", "molecule", "structure")
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


def find_smiles_column(columns: list[str], wanted: str | None) -> str:
    """``wanted`` if given (must exist), else the first column whose name looks like SMILES, else the first."""
    return _find_column(columns, wanted, SMILES_NAMES, "SMILES", fallback_first=True)


def _find_column(columns: list[str], wanted: str | None, defaults: tuple[str, ...], what: str,
                 fallback_first: bool = False) -> str:
    """``wanted`` (must exist), else the first column named like one of ``defaults`` (case-insensitive)."""
    if wanted is not None:
        if wanted not in columns:
            raise ValueError(f"{what} column {wanted!r} not found; columns are {columns}")
        return wanted
    low = {c.lower(): c for c in columns}
    for name in defaults:
        if name in low:
            return low[name]
    if fallback_first:
        return columns[0]
    raise ValueError(f"no {what} column among {columns}; name it explicitly (one of {list(defaults)} is detected)")


def iter_input_frames(path: Path, kind: str, smiles_column: str | None, chunk_size: int,
                      cif_column: str | None = None) -> Iterator[tuple[pd.DataFrame, list[Any]]]:
    """Yield ``(columns to echo, payloads)`` per chunk of the input file, in order."""
    if kind == "molecule" and _is_csv(path):
        sep = "\t" if ".tsv" in path.name.lower() else ","
        reader = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, chunksize=chunk_size)
        col = None
        for df in reader:
            col = col or find_smiles_column(list(df.columns), smiles_column)
            yield df, df[col].tolist()
        return
    if kind == "crystal" and _is_csv(path):  # a CSV with a CIF-string column: echo every column too
        from featurizers.errors import FeaturizationError
        from featurizers.readers import CIF_COLUMN_NAMES
        from featurizers.structures import CrystalText

        reader = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_size)
        col, start = None, 0
        for df in reader:
            if col is None:
                col = _find_column(list(df.columns), cif_column, CIF_COLUMN_NAMES, "CIF")
            payloads: list[Any] = [
                CrystalText("cif", text, f"row {start + i + 1}") if text.strip()
                else FeaturizationError("empty CIF", start + i) for i, text in enumerate(df[col].tolist())]
            start += len(df)
            yield df, payloads
        return
    if kind == "molecule" and path.suffix.lower() in (".smi", ".txt") and path.is_file():
        with open(path) as fh:
            lines = (ln.rstrip("\n") for ln in fh)
            while True:
                block = list(itertools.islice(lines, chunk_size))
                if not block:
                    return
                parts = [ln.strip().split(None, 1) for ln in block]
                smi = [p[0] if p else "" for p in parts]
                names = [p[1] if len(p) > 1 else "" for p in parts]
                yield pd.DataFrame({"smiles": smi, "name": names}), smi
    from featurizers.readers import read_items

    kw: dict[str, Any] = {"target_columns": []}
    if smiles_column is not None:
        kw["smiles_column"] = smiles_column
    if cif_column is not None:
        kw["cif_column"] = cif_column
    _, items = read_items(path, kind, **kw)
    while True:
        block = list(itertools.islice(items, chunk_size))
        if not block:
            return
        yield pd.DataFrame({"row_id": [it.row_id for it in block], "id": [it.item_id for it in block]}), \
            [it.payload for it in block]


def _progress(enabled: bool | None, unit: str) -> Any:
    from tqdm import tqdm

    from harmony_mol.utils.log import progress_enabled

    return tqdm(unit=unit, disable=not progress_enabled(enabled), smoothing=0.1)


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
    out.parent.mkdir(parents=True, exist_ok=True)
    bar = _progress(progress, "row")
    with atomic_open(out, "w", newline="") as fh:
        header = True
        for ch in featurize_stream(payloads(), predictor.bundle.featurizer_spec, predictor.workers):
            df = frames.pop(0)
            mean, std, errs = predictor.predict_chunk(ch)
            df = df.copy()
            for k, name in enumerate(predictor.target_names):
                df[name] = mean[:, k]
                if predictor.is_ensemble:
                    df[f"{name}_std"] = std[:, k]
            df["error"] = errs
            df.to_csv(fh, header=header, index=False)
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
    bar = _progress(progress, "row")
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
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".npy":
        with atomic_open(out, "wb") as fh:
            np.save(fh, emb)
        with atomic_open(out.with_suffix(".errors.csv"), "w", newline="") as fh:
            meta.assign(index=np.arange(len(meta)))[lambda d: d["error"] != ""].to_csv(fh, index=False)
    else:
        full = pd.concat([meta.drop(columns="error"),
                          pd.DataFrame(emb, columns=[f"e{i}" for i in range(emb.shape[1])]), meta[["error"]]], axis=1)
        with atomic_open(out, "wb" if suffix == ".parquet" else "w", **({} if suffix == ".parquet" else {"newline": ""})) as fh:
            full.to_parquet(fh) if suffix == ".parquet" else full.to_csv(fh, index=False)
    stats = StreamStats(out, len(meta), n_failed, time.perf_counter() - t0)
    logger.info("embedded %d rows (%d failed) into %s (%d dims) in %.1f s", stats.n_rows, n_failed, out,
                emb.shape[1], stats.seconds)
    return stats
