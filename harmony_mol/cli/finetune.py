"""``harmony finetune``: fine-tune graph-level property models (one bundle per call)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from harmony_mol.cli.apps import app
from harmony_mol.cli.errors import check_set, echo_fields, user_errors
from harmony_mol.finetune.config import FinetuneConfig, FinetuneModelConfig, FinetuneOptimConfig, FinetuneSplitConfig

_O, _M, _S, _C = FinetuneOptimConfig, FinetuneModelConfig, FinetuneSplitConfig, FinetuneConfig


@app.command("finetune")
def finetune_cmd(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML FinetuneConfig (flags override it; "
                                          "default: the built-in defaults shown here)."),
    input_: Optional[str] = typer.Option(None, "--input", "-i", help="Dataset dir, or raw CSV / SMILES / CIF set "
                                         "(required, here or in --config)."),
    target_columns: Optional[list[str]] = typer.Option(None, "--target-column", "-t", help="Label column (repeat; "
                                                       "default: every label column of the dataset)."),
    smiles_column: Optional[str] = typer.Option(None, "--smiles-column", help="SMILES column of a raw CSV "
                                                "(default: detected from the header)."),
    pretrained: Optional[Path] = typer.Option(None, "--pretrained", "-p", help="Encoder checkpoint from `harmony "
                                              "pretrain` (default: none, train the encoder from scratch)."),
    which: Optional[str] = typer.Option(None, "--which", help=f"student | teacher weights of the checkpoint "
                                        f"(default {_M.which})."),
    split: Optional[str] = typer.Option(None, "--split", help=f"scaffold | random | kfold | file (default "
                                        f"{_S.method}, fractions {'/'.join(str(f) for f in _S.fractions)}; "
                                        "crystals: random)."),
    split_file: Optional[Path] = typer.Option(None, "--split-file", help="Saved split, harmony-split/1 JSON of "
                                              "0-based data-row ids (implies --split file; default: none)."),
    task_type: Optional[str] = typer.Option(None, "--task-type", help="auto | classification | regression "
                                            "(default auto: 0/1 labels = classification)."),
    seeds: Optional[list[int]] = typer.Option(None, "--seed", help="Replicate seed (repeat for several; default "
                                              f"{list(_C.seeds)})."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help=f"Maximum epochs (default {_O.epochs}; early "
                                         f"stop after {_O.patience} without improvement)."),
    freeze: Optional[bool] = typer.Option(None, "--freeze/--no-freeze", help="Freeze the encoder (linear probe; "
                                          f"default {'--freeze' if _O.freeze_encoder else '--no-freeze'}; encoder "
                                          "lr x0.1 when pretrained, x1.0 from scratch, unless optim.encoder_lr_mult)."),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", "-o", help="Output root (run = <out>/<name>; "
                                           f"default {_C.out_dir})."),
    name: Optional[str] = typer.Option(None, "--name", help=f"Run name (default {_C.name})."),
    device: Optional[str] = typer.Option(None, "--device", help=f"cpu | cuda | auto (default {_C.device})."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="Per-epoch progress bar "
                                            "(default: on when stderr is a terminal)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Config override key.sub=value (repeatable; "
                                             "default: none)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result summary as JSON."),
) -> None:
    """Fine-tune HarmonyGNN on labelled molecules or crystals; writes model.pt, metrics.json and plots."""
    from harmony_mol.config import load_config, parse_overrides
    from harmony_mol.finetune.train import finetune

    check_set(set_)
    flags = {"data.input": input_, "data.smiles_column": smiles_column,
             "model.pretrained": str(pretrained) if pretrained else None, "model.which": which,
             "split.method": "file" if split_file else split, "split.file": str(split_file) if split_file else None,
             "task_type": task_type, "optim.epochs": epochs, "optim.freeze_encoder": freeze,
             "out_dir": str(out_dir) if out_dir else None, "name": name, "device": device, "progress": progress,
             "data.target_columns": list(target_columns) if target_columns else None,
             "seeds": list(seeds) if seeds else None}
    over = {**parse_overrides(set_), **{k: v for k, v in flags.items() if v is not None}}
    with user_errors():
        cfg = load_config(FinetuneConfig, config, over)
        res = finetune(cfg)
    summary = {"bundle": str(res.bundle_path), "out_dir": str(res.out_dir), "seeds": list(res.seeds),
               "task_type": res.metrics["task_type"], "metric": res.metrics["metric"],
               "summary": res.metrics["summary"], "wall_s": round(res.wall_s, 2),
               "encoder": res.metrics["encoder"], "split": res.metrics["split"],
               "n_test_dropped": res.metrics["n_test_dropped"], "splits": str(res.out_dir / "splits.json"),
               "test_predictions": str(res.out_dir / "test_predictions.csv")}
    if as_json:
        typer.echo(json.dumps(summary))
        return
    from harmony_mol.finetune.outputs import describe_encoder, describe_split

    echo_fields([("model", res.bundle_path), ("encoder", describe_encoder(res.metrics["encoder"])),
                 ("split", describe_split(res.metrics["split"])), ("splits", res.out_dir / "splits.json"),
                 ("test preds", res.out_dir / "test_predictions.csv"), ("metrics", res.out_dir / "metrics.json")]
                + [(name, ", ".join(f"{m} {v['mean']:.4f} ± {v['std']:.4f}" for m, v in row.items()))
                   for name, row in res.metrics["summary"].items()]
                + [("wall", f"{res.wall_s:.1f} s")])
