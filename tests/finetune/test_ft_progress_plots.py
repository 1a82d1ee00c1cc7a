"""What chemprop users expect to see.

Progress bars with a total and an ETA, per-epoch progress with the validation metric, every default in
--help, readable learning-curve and parity plots.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer

from harmony_mol.config import load_config
from harmony_mol.finetune import plots
from harmony_mol.finetune import train as train_mod
from harmony_mol.finetune.config import FinetuneConfig

from .conftest import SMILES16, TINY_ENCODER, TinyDataset

#: Flags that have no default to state (plain switches, and the help option).
SWITCHES = {"--help", "--json", "--force", "--no-targets", "--resume", "--quiet", "--verbose"}


def _write_csv(path: Path, n: int = 30) -> Path:
    rows = [(SMILES16[i % 16], float(i % 5)) for i in range(n)]
    path.write_text("smiles,y\n" + "".join(f"{s},{y}\n" for s, y in rows))
    return path


def test_featurize_and_predict_bars_show_a_total_and_an_eta(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           tiny_regression: TinyDataset) -> None:
    from harmony_mol.data.build import build_dataset
    from harmony_mol.data.config import FeaturizeConfig
    from harmony_mol.predict.api import Predictor

    src = _write_csv(tmp_path / "m.csv")
    build_dataset(FeaturizeConfig(inputs=(str(src),), output=tmp_path / "ds", target_columns=("y",),
                                  progress=True, chunk_size=7))
    err = capsys.readouterr().err
    assert re.search(r"featurize: 100%.*\b30/30 \[", err), err  # a total, so a percentage and an ETA
    assert re.search(r"<\d\d:\d\d", err), err

    monkeypatch.setattr(train_mod, "resolve_dataset", lambda cfg, spec: tiny_regression)
    cfg = load_config(FinetuneConfig, None, {
        "name": "p", "out_dir": str(tmp_path / "ft"), "data": {"input": "tiny"}, "plots": False, "progress": True,
        "split": {"method": "random", "fractions": [0.5, 0.25, 0.25]},
        "model": {"encoder": TINY_ENCODER, "head_hidden": 16}, "optim": {"epochs": 3, "batch_size": 8}})
    res = train_mod.finetune(cfg)
    err = capsys.readouterr().err
    assert re.search(r"fine-tune seed 0: 100%.*3/3 \[.*valid rmse \d", err), err  # per epoch, with the metric

    Predictor.load(res.bundle_path).predict_file(src, tmp_path / "p.csv", progress=True, chunk_size=8)
    err = capsys.readouterr().err
    assert re.search(r"predict: 100%.*\b30/30 \[", err) and re.search(r"<\d\d:\d\d", err), err


def _options(command: str) -> list[Any]:
    from harmony_mol.cli import app

    group = typer.main.get_command(app)
    cmd = group.commands[command]  # type: ignore[attr-defined]
    opts = [p for p in cmd.params if getattr(p, "param_type_name", "") == "option"]
    assert opts, command
    return opts


@pytest.mark.parametrize("command", ["finetune", "predict", "featurize", "pretrain"])
def test_help_states_every_default(command: str) -> None:
    for opt in _options(command):
        names = set(opt.opts) | set(opt.secondary_opts)
        if names & SWITCHES:
            continue
        shown = opt.default is not None and opt.show_default is not False and not getattr(opt, "is_flag", False)
        text = opt.help or ""
        assert shown or opt.required or "default" in text or "required" in text, f"{command} {opt.opts}: {text!r}"


def test_finetune_help_defaults_match_the_config() -> None:
    from harmony_mol.finetune.config import FinetuneModelConfig, FinetuneOptimConfig, FinetuneSplitConfig
    from harmony_mol.ssl.config import PretrainConfig

    helps = {name: o.help or "" for o in _options("finetune") for name in o.opts}
    assert f"default {FinetuneOptimConfig.epochs}" in helps["--epochs"]
    assert f"default {FinetuneSplitConfig.method}" in helps["--split"]
    assert "from scratch" in helps["--pretrained"] and f"default {FinetuneModelConfig.which}" in helps["--which"]
    pre = {name: o.help or "" for o in _options("pretrain") for name in o.opts}["--config"]
    assert f"epochs {PretrainConfig.epochs}" in pre and f"batch_size {PretrainConfig.batch_size}" in pre


def _capture(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    figs: list[Any] = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figs.append(fig) or path)
    return figs


def test_learning_curves_use_integer_epochs_and_mark_the_selected_epoch(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    figs = _capture(monkeypatch)
    hist = {0: [{"epoch": e, "train_loss": 1.0 / e, "val_metric": 2.0 - 0.1 * e} for e in range(1, 8)]}
    plots.learning_curves(hist, "rmse", tmp_path / "lc.png", selected={0: 5})
    fig = figs[0]
    fig.canvas.draw()
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
        stars = [ln for ln in ax.get_lines() if ln.get_marker() == "*"]
        assert len(stars) == 1 and list(stars[0].get_xdata()) == [5]
    assert any("selected epoch 5" in t.get_text() for t in fig.axes[1].get_legend().get_texts())


def test_parity_plot_shows_r2_and_the_unit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    figs = _capture(monkeypatch)
    yt = np.array([[1.0, 3.0], [2.0, 1.0], [3.0, 2.0], [4.0, 5.0]])
    yp = yt + np.array([[0.1, 0.2], [-0.1, 0.1], [0.2, -0.3], [0.0, 0.1]])
    plots.parity_plot(yt, yp, ["expt", "gap [eV]"], tmp_path / "p.png")
    a, b = figs[0].axes[:2]
    r2 = 1 - np.sum((yt[:, 0] - yp[:, 0]) ** 2) / np.sum((yt[:, 0] - yt[:, 0].mean()) ** 2)
    assert f"R² {r2:.3f}" in a.get_title() and "kcal/mol" in a.get_xlabel() and "kcal/mol" in a.get_ylabel()
    assert "R² " in b.get_title() and b.get_xlabel() == "true (eV)"
    plots.parity_plot(yt[:, :1], yp[:, :1], ["mystery"], tmp_path / "q.png")
    assert figs[1].axes[0].get_xlabel() == "true"  # unknown unit: none invented
