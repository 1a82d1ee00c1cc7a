"""``harmony finetune``: fine-tune graph-level property models (one bundle per call)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from harmony_mol.cli.errors import user_errors


def finetune_cmd(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML FinetuneConfig (flags override it)."),
    input_: Optional[str] = typer.Option(None, "--input", "-i", help="Dataset dir, or raw CSV / SMILES / CIF set."),
    target_columns: Optional[list[str]] = typer.Option(None, "--target-column", "-t", help="Label column (repeat)."),
    smiles_column: Optional[str] = typer.Option(None, "--smiles-column", help="SMILES column of a raw CSV."),
    pretrained: Optional[Path] = typer.Option(None, "--pretrained", "-p", help="Encoder checkpoint (else scratch)."),
    which: Optional[str] = typer.Option(None, "--which", help="student | teacher weights of the checkpoint."),
    split: Optional[str] = typer.Option(None, "--split", help="scaffold | random | kfold | file."),
    split_file: Optional[Path] = typer.Option(None, "--split-file", help="Saved split (implies --split file)."),
    task_type: Optional[str] = typer.Option(None, "--task-type", help="auto | classification | regression."),
    seeds: Optional[list[int]] = typer.Option(None, "--seed", help="Replicate seed (repeat for several)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Maximum epochs."),
    freeze: Optional[bool] = typer.Option(None, "--freeze/--no-freeze", help="Freeze the encoder (linear probe)."),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", "-o", help="Output root (run = <out>/<name>)."),
    name: Optional[str] = typer.Option(None, "--name", help="Run name."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu | cuda | auto."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Config override key.sub=value (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result summary as JSON."),
) -> None:
    """Fine-tune HarmonyGNN on labelled molecules or crystals; writes model.pt, metrics.json and plots."""
    from harmony_mol.config import load_config, parse_overrides
    from harmony_mol.finetune.config import FinetuneConfig
    from harmony_mol.finetune.train import finetune

    for item in set_ or []:
        if "=" not in item:
            raise typer.BadParameter(f"--set {item!r} must look like key=value")
    over: dict[str, Any] = parse_overrides(set_)
    flags = {"data.input": input_, "data.smiles_column": smiles_column,
             "model.pretrained": str(pretrained) if pretrained else None, "model.which": which,
             "split.method": "file" if split_file else split, "split.file": str(split_file) if split_file else None,
             "task_type": task_type, "optim.epochs": epochs, "optim.freeze_encoder": freeze,
             "out_dir": str(out_dir) if out_dir else None, "name": name, "device": device}
    over.update({k: v for k, v in flags.items() if v is not None})
    if target_columns:
        over["data.target_columns"] = list(target_columns)
    if seeds:
        over["seeds"] = list(seeds)
    with user_errors():
        cfg = load_config(FinetuneConfig, config, over)
        res = finetune(cfg)
    summary = {"bundle": str(res.bundle_path), "out_dir": str(res.out_dir), "seeds": list(res.seeds),
               "task_type": res.metrics["task_type"], "metric": res.metrics["metric"],
               "summary": res.metrics["summary"], "wall_s": round(res.wall_s, 2)}
    if as_json:
        typer.echo(json.dumps(summary))
        return
    typer.echo(f"model      {res.bundle_path}")
    typer.echo(f"metrics    {res.out_dir / 'metrics.json'}")
    for split_name, row in res.metrics["summary"].items():
        txt = ", ".join(f"{m} {v['mean']:.4f} ± {v['std']:.4f}" for m, v in row.items())
        typer.echo(f"{split_name:<10} {txt}")
    typer.echo(f"wall       {res.wall_s:.1f} s")


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    """Add ``harmony finetune``."""
    app.command("finetune")(finetune_cmd)
