"""``harmony predict``, ``harmony embed`` and ``harmony speed predict``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from harmony_mol.cli.apps import app, speed_app
from harmony_mol.cli.errors import echo_fields, fail, user_errors

#: options shared by ``harmony predict`` and ``harmony embed``
_BATCH_SIZE = typer.Option(512, "--batch-size", help="Graphs per inference batch.")
_CHUNK_SIZE = typer.Option(8192, "--chunk-size", help="Rows read per chunk (bounds memory).")
_WORKERS = typer.Option(1, "--workers", "-w", help="Featurizing processes.")
_DEVICE = typer.Option("cpu", "--device", help="cpu | cuda | auto.")
_THREADS = typer.Option(1, "--threads", help="torch threads for inference (0 = torch default).")
_PROGRESS = typer.Option(None, "--progress/--no-progress", help="Progress bar with total and ETA (default: on when "
                         "stderr is a terminal).")


def _echo_figures(res: dict, as_json: bool, width: int, float_fmt: str) -> None:
    """Print a speed benchmark's figures, as JSON or one aligned ``name value`` line each."""
    if as_json:
        typer.echo(json.dumps(res))
        return
    echo_fields([(k, f"{v:{float_fmt}}" if isinstance(v, float) else v) for k, v in res.items()], width)


def _import_predictor() -> type:
    """``Predictor``, importing only what inference needs (see :mod:`harmony_mol.utils.imports`)."""
    from harmony_mol.utils.imports import defer_imports, link_deferred

    defer_imports()
    from harmony_mol.predict.api import Predictor

    link_deferred()
    return Predictor


@app.command("predict")
def predict_cmd(
    model: Optional[list[Path]] = typer.Option(None, "--model", "-m", help="Model bundle (repeat for an ensemble; "
                                               "required, here or with --models)."),
    models: Optional[list[Path]] = typer.Option(None, "--models", help="More bundles for an ensemble (default: none)."),
    input_: Path = typer.Option(..., "--input", "-i", help="CSV / .smi / SDF of molecules; CIF folder, CSV with a "
                                "CIF column, id_prop set or JSON lines of crystals."),
    output: Path = typer.Option(..., "--output", "-o", help="Predictions CSV: the input columns, then <target>_pred "
                                "(<target>_std for ensembles) and error."),
    smiles_column: Optional[str] = typer.Option(None, "--smiles-column", help="SMILES column (default: detected: "
                                                "smiles, canonical_smiles, smiles_string, ...)."),
    cif_column: Optional[str] = typer.Option(None, "--cif-column", help="CIF column of a crystal CSV (default: "
                                             "detected: cif, structure_cif)."),
    batch_size: int = _BATCH_SIZE,
    chunk_size: int = _CHUNK_SIZE,
    workers: int = _WORKERS,
    device: str = _DEVICE,
    threads: int = _THREADS,
    progress: Optional[bool] = _PROGRESS,
) -> None:
    """Predict properties for every input row (failed rows get NaN and an error reason)."""
    Predictor = _import_predictor()

    paths = list(model or []) + list(models or [])
    if not paths:
        raise typer.BadParameter("give --model (and optionally --models)")
    with user_errors():
        try:
            pred = Predictor.load(paths, device=device, batch_size=batch_size, workers=workers, threads=threads)
            st = pred.predict_file(input_, output, smiles_column=smiles_column, cif_column=cif_column,
                                   chunk_size=chunk_size, progress=progress)
        except (ValueError, FileNotFoundError) as exc:  # BundleError is a ValueError
            fail(exc)
    typer.echo(f"wrote {st.output}: {st.n_rows:,} rows ({st.n_failed:,} failed to featurize) "
               f"in {st.seconds:.1f} s ({st.rows_per_s:,.0f} rows/s)")


@app.command("embed")
def embed_cmd(
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model bundle (its fine-tuned encoder)."),
    encoder: Optional[Path] = typer.Option(None, "--encoder", help="Pretrained encoder checkpoint instead."),
    which: str = typer.Option("student", "--which", help="student | teacher (with --encoder)."),
    readout: str = typer.Option("mean", "--readout", help="Pooling with --encoder: mean, sum, max, mean_max, ..."),
    input_: Path = typer.Option(..., "--input", "-i", help="Molecules or crystals (as for predict)."),
    output: Path = typer.Option(..., "--output", "-o", help="emb.npy (+ .errors.csv), emb.csv or emb.parquet."),
    smiles_column: Optional[str] = typer.Option(None, "--smiles-column", help="SMILES column (default: detected)."),
    cif_column: Optional[str] = typer.Option(None, "--cif-column", help="CIF column (default: detected)."),
    device: str = _DEVICE,
    threads: int = _THREADS,
    batch_size: int = _BATCH_SIZE,
    chunk_size: int = _CHUNK_SIZE,
    workers: int = _WORKERS,
    progress: Optional[bool] = _PROGRESS,
) -> None:
    """Export pooled graph embeddings (one row per input; NaN rows for inputs that failed)."""
    Predictor = _import_predictor()

    if (model is None) == (encoder is None):
        raise typer.BadParameter("give exactly one of --model or --encoder")
    with user_errors():
        try:
            kw = {"device": device, "batch_size": batch_size, "workers": workers, "threads": threads}
            pred = Predictor.load(model, **kw) if model else Predictor.from_encoder(encoder, which, readout, **kw)
            st = pred.embed_file(input_, output, smiles_column=smiles_column, cif_column=cif_column,
                                 chunk_size=chunk_size, progress=progress)
        except (ValueError, FileNotFoundError) as exc:  # BundleError is a ValueError
            fail(exc)
    typer.echo(f"wrote {st.output}: {st.n_rows:,} rows ({st.n_failed:,} failed) in {st.seconds:.1f} s")


@speed_app.command("predict")
def speed_predict_cmd(
    n: int = typer.Option(10_000, "--n", help="Molecules to push through featurize + predict."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Bundle to time (default: a fresh "
                                         "default-size model)."),
    workers: int = typer.Option(2, "--workers", "-w", help="Featurizing processes."),
    batch_size: int = typer.Option(1024, "--batch-size"),
    device: str = typer.Option("cpu", "--device"),
    threads: int = typer.Option(1, "--threads", help="torch intra-op threads for inference (0 = torch default)."),
    data: Optional[Path] = typer.Option(None, "--data", help="SMILES CSV to sample from (default: ZINC in shared "
                                        "data)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """End-to-end molecules/s: featurize + predict (on this machine's CPUs or a GPU)."""
    from harmony_mol.benchmark.speed.predict import speed_predict

    try:
        res = speed_predict(n=n, model=model, workers=workers, batch_size=batch_size, device=device,
                            threads=threads, data=data)
    except (ValueError, FileNotFoundError) as exc:
        fail(exc)
    _echo_figures(res, as_json, width=22, float_fmt=",.1f")


@speed_app.command("startup")
def speed_startup_cmd(
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Bundle to time (default: a fresh "
                                         "default-size model)."),
    repeats: int = typer.Option(3, "--repeats", help="Runs of each command; the best is reported."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """CPU seconds of `harmony predict` on one SMILES against `python -c "import torch"` (the floor)."""
    from harmony_mol.benchmark.speed.startup import measure_startup

    try:
        res = measure_startup(model=model, repeats=repeats)
    except (ValueError, RuntimeError, OSError) as exc:
        fail(exc)
    _echo_figures(res, as_json, width=28, float_fmt=".2f")
