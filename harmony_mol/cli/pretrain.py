"""``harmony pretrain`` and ``harmony speed pretrain``.

``harmony pretrain`` also runs data-parallel under ``torchrun`` (every rank runs the same command):

    torchrun --standalone --nproc_per_node=2 $(which harmony) pretrain --config configs/pretrain/zinc.yaml
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer

from harmony_mol.cli.apps import app, speed_app
from harmony_mol.cli.errors import fail, user_errors


@app.command("pretrain")
def pretrain_cmd(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML PretrainConfig (configs/pretrain/*.yaml; "
                                          "default: the built-in PretrainConfig: epochs 10, batch_size 256, "
                                          "optim.lr 5e-4, masking prob 0.25, device auto, out_dir runs/pretrain)."),
    resume: bool = typer.Option(False, "--resume", help="Continue exactly from <out_dir>/last.pt."),
    overrides: Optional[list[str]] = typer.Argument(None, help="Config overrides key.sub=value, e.g. optim.lr=1e-3 "
                                                    "or dataset=runs/datasets/x (the dataset has no default)."),
) -> None:
    """Self-supervised HarmonyGNN pretraining on a featurized dataset; prints the encoder checkpoint path.

    Under torchrun (several processes) batch_size is per process and rank 0 writes the files.
    """
    from harmony_mol.config import ConfigError, load_config
    from harmony_mol.ssl.config import PretrainConfig
    from harmony_mol.ssl.pretrain import pretrain

    try:
        cfg = load_config(PretrainConfig, config, list(overrides or []))
    except ConfigError as exc:
        fail(exc, code=2)
    with user_errors():
        path = pretrain(cfg, resume=resume)
    if os.environ.get("RANK", "0") in ("", "0"):  # torchrun: one line from rank 0 only
        typer.echo(str(path))


@speed_app.command("pretrain")
def speed_pretrain_cmd(
    n_graphs: int = typer.Option(2048, "--n-graphs", help="ZINC molecules (MOSES sample) to featurize and use."),
    batch_size: int = typer.Option(256, "--batch-size", help="Graphs per step (both models)."),
    steps: int = typer.Option(4, "--steps", help="Timed steps per round (after 2 warm-up steps)."),
    rounds: int = typer.Option(3, "--rounds", help="Interleaved rounds; each pair reports its best round."),
    hidden: int = typer.Option(300, "--hidden", help="Width of both models."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Our pretrain-config override key=value, e.g. "
                                             "encoder.ffn_ratio=1 (repeatable)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Shared data directory."),
    profile: bool = typer.Option(False, "--profile", help="Also print a torch.profiler table of our step."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Graphs/s of our teacher-student step vs a same-size GINE masked-attribute step (PyG)."""
    from harmony_mol.benchmark.speed.pretrain import format_report, measure_pretrain

    result = measure_pretrain(n_graphs=n_graphs, batch_size=batch_size, steps=steps, hidden=hidden,
                              device=device, overrides=list(set_ or []), data_dir=data_dir, profile=profile,
                              rounds=rounds)
    typer.echo(json.dumps(result) if as_json else format_report(result))
