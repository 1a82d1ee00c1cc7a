"""``harmony featurize`` and ``harmony speed featurize``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from harmony_mol.cli.apps import app, speed_app
from harmony_mol.cli.errors import check_set, echo_fields, fail, user_errors


@app.command("featurize")
def featurize_cmd(
    inputs: list[str] = typer.Option([], "--input", "-i", help="File, folder, dataset name (e.g. bbbp) or group "
                                     "(pretrain-corpus); repeat for several."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Dataset directory to write (required; "
                                          "replaces only an empty folder or one of our datasets)."),
    kind: Optional[str] = typer.Option(None, "--kind", help="molecule or crystal (default: detected)."),
    preset: Optional[str] = typer.Option(None, "--preset", help="harmony | hu (molecules), crystal (default: harmony "
                                         "for molecules, crystal for crystals)."),
    smiles_column: Optional[str] = typer.Option(None, "--smiles-column", help="SMILES column of a CSV (default: "
                                                "detected from the header)."),
    cif_column: Optional[str] = typer.Option(None, "--cif-column", help="CIF-string column of a crystal CSV "
                                             "(default: detected: cif, structure_cif)."),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="Identifier column (default: detected: id, "
                                            "material_id, mol_id, name, ...; else the row number)."),
    target_columns: Optional[list[str]] = typer.Option(None, "--target-column", "-t", help="Label column (repeat "
                                                       "for several; default: none for CSVs, every target of an "
                                                       "id_prop.csv)."),
    no_targets: bool = typer.Option(False, "--no-targets", help="Ignore label columns (unlabelled corpus)."),
    dedupe: Optional[bool] = typer.Option(None, "--dedupe/--no-dedupe", help="Drop exact repeats of an input string "
                                          "(default --no-dedupe)."),
    max_atoms: Optional[int] = typer.Option(None, "--max-atoms", help="Reject larger items (default 200 heavy atoms "
                                            "for molecules, 500 sites for crystals)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Featurizing processes (default 1)."),
    shard_size: Optional[int] = typer.Option(None, "--shard-size", help="Graphs per shard file (default 25000)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Shared data directory for dataset names "
                                            "(default: $HARMONY_DATA_DIR, else ../shared/data)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML FeaturizeConfig (options override it; "
                                          "default: the built-in defaults)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Config override key=value (repeatable; default: "
                                             "none)."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="Progress bar with total and ETA "
                                            "(default: on when stderr is a terminal)."),
    force: bool = typer.Option(False, "--force", help="Rebuild even if the cached dataset matches."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Featurize molecules or crystals into a sharded, cached dataset directory."""
    from harmony_mol.config import load_config, parse_overrides
    from harmony_mol.data.config import FeaturizeConfig

    pairs = {"inputs": list(inputs) if inputs else None, "output": str(output) if output else None, "kind": kind,
             "preset": preset, "smiles_column": smiles_column, "cif_column": cif_column, "id_column": id_column,
             "target_columns": [] if no_targets else (list(target_columns) if target_columns else None),
             "dedupe": dedupe, "max_atoms": max_atoms, "workers": workers, "shard_size": shard_size,
             "data_dir": str(data_dir) if data_dir else None, "progress": progress, "force": True if force else None}
    check_set(set_)
    try:
        cfg = load_config(FeaturizeConfig, config, {**parse_overrides(set_),
                                                    **{k: v for k, v in pairs.items() if v is not None}})
    except ValueError as exc:
        fail(exc, code=2)
    if not cfg.inputs or cfg.output is None:
        raise typer.BadParameter("--input and --output are required (or give them in --config)")
    with user_errors():
        info = _cache_hit(cfg)
        if info is None:  # only now pay for torch / RDKit / pymatgen imports
            from harmony_mol.data.build import build_dataset

            info = build_dataset(cfg)
    summary = {"path": str(info.path), "graphs": info.n_graphs, "rejected": info.n_rejected,
               "duplicates": info.n_duplicates, "rejected_csv": str(info.rejected_path),
               "targets": info.target_names, "cache_hit": info.cache_hit, "key": info.key,
               "seconds": round(info.seconds, 3)}
    if as_json:
        typer.echo(json.dumps(summary))
        return
    rows: list[tuple[str, object]] = [("dataset", info.path), ("graphs", f"{info.n_graphs:,}"),
                                      ("rejected", f"{info.n_rejected:,}  ({info.rejected_path})")]
    if cfg.dedupe:
        rows.append(("duplicates", f"{info.n_duplicates:,}  ({info.path / 'duplicates.csv'})"))
    rows += [("targets", ", ".join(info.target_names) if info.target_names else "(none)"),
             ("cache", f"{'hit' if info.cache_hit else 'built'} (key {info.key})"), ("time", f"{info.seconds:.2f} s")]
    echo_fields(rows)


def _cache_hit(cfg: Any) -> Any:
    """Torch-free cache check (:mod:`harmony_mol.data.request`): a ``DatasetInfo``-like summary on a hit, else None."""
    import time
    from types import SimpleNamespace

    from harmony_mol.data.request import cached_manifest

    t0 = time.perf_counter()
    manifest = cached_manifest(cfg)
    if manifest is None:
        return None
    counts = manifest["counts"]
    out = Path(cfg.output)
    return SimpleNamespace(path=out, n_graphs=counts["graphs"], n_rejected=counts["rejected"],
                           n_duplicates=counts.get("duplicates", 0), rejected_path=out / "rejected.csv",
                           target_names=list(manifest["target_names"]), cache_hit=True,
                           key=manifest["cache_key"], seconds=time.perf_counter() - t0)


@speed_app.command("featurize")
def speed_featurize_cmd(
    n: int = typer.Option(10_000, "--n", help="Molecules to featurize (MOSES ZINC train10k sample)."),
    n_crystals: int = typer.Option(500, "--n-crystals", help="Structures to featurize (Perov-5 val)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Shared data directory."),
    skip_deepchem: bool = typer.Option(False, "--skip-deepchem", help="Skip the DeepChem baselines."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object of items/s per core."),
) -> None:
    """Featurization throughput (items/s, one process): ours vs DeepChem and PyG."""
    from harmony_mol.benchmark.speed.featurize import format_report, measure_featurize

    result = measure_featurize(n=n, n_crystals=n_crystals, data_dir=data_dir, deepchem=not skip_deepchem)
    if as_json:
        typer.echo(json.dumps({"molecules": result["molecules"], "crystals": result["crystals"]}))
    else:
        typer.echo(format_report(result))
