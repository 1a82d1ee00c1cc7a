from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from harmony_mol.config import load_config
from harmony_mol.finetune import train as train_mod
from harmony_mol.finetune.config import FinetuneConfig
from harmony_mol.finetune.evaluate import split_metrics
from harmony_mol.models.io import BundleError, load_bundle, load_encoder, save_checkpoint
from harmony_mol.models.registry import build_encoder

from .conftest import TINY_ENCODER, TinyDataset


def _cfg(tmp_path: Path, **over: object) -> FinetuneConfig:
    base = {
        "name": "t", "out_dir": str(tmp_path), "data": {"input": "tiny"},
        "split": {"method": "random", "fractions": [0.5, 0.25, 0.25]},
        "model": {"encoder": TINY_ENCODER, "readout": "mean_max", "head_hidden": 16},
        "optim": {"epochs": 3, "batch_size": 4, "eval_batch_size": 5, "lr": 3e-3}, "plots": False,
    }
    return load_config(FinetuneConfig, None, {**base, **over})


def _patch(monkeypatch: pytest.MonkeyPatch, ds: TinyDataset) -> None:
    monkeypatch.setattr(train_mod, "resolve_dataset", lambda cfg, spec: ds)


def test_bundle_round_trip_reproduces_metrics_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      tiny_regression: TinyDataset) -> None:
    _patch(monkeypatch, tiny_regression)
    res = train_mod.finetune(_cfg(tmp_path, seeds=[0, 1]))
    assert res.bundle_path.is_file() and (res.out_dir / "metrics.json").is_file()
    saved = json.loads((res.out_dir / "metrics.json").read_text())
    assert saved["task_type"] == "regression" and set(saved["per_seed"]) == {"0", "1"}
    bundle = load_bundle(res.bundle_path)
    assert len(bundle.members) == 2 and bundle.target_names == ["n_heavy", "mod3"]
    t = tiny_regression.tensors()
    for i, member in enumerate(bundle.members):
        model = bundle.build_member(i)
        split = {k: [tiny_regression.row_ids.index(r) for r in v] for k, v in member.split.items()}
        m, _ = split_metrics(model, t, split, [0, 1], "regression", member.scaler, bundle.target_names, 5, "cpu")
        for name in ("train", "valid", "test"):
            assert m[name]["rmse"] == member.metrics[name]["rmse"]  # bit-for-bit on CPU
            assert m[name]["rmse"] == saved["per_seed"][str(member.seed)][name]["rmse"]


def test_finetune_is_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   tiny_classification: TinyDataset) -> None:
    _patch(monkeypatch, tiny_classification)
    a = train_mod.finetune(_cfg(tmp_path / "a", task_type="classification"))
    b = train_mod.finetune(_cfg(tmp_path / "b", task_type="classification"))
    assert a.metrics["per_seed"] == b.metrics["per_seed"]
    assert a.metrics["task_type"] == "classification"
    sa, sb = torch.load(a.bundle_path, weights_only=True), torch.load(b.bundle_path, weights_only=True)
    for k, v in sa["members"][0]["head"].items():
        assert torch.equal(v, sb["members"][0]["head"][k])


def test_overfit_sixteen_molecules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   tiny_regression: TinyDataset) -> None:
    _patch(monkeypatch, tiny_regression)
    cfg = _cfg(tmp_path, data={"input": "tiny", "target_columns": ["n_heavy"]},
               optim={"epochs": 150, "batch_size": 16, "lr": 3e-3, "encoder_lr_mult": 1.0, "patience": 0},
               model={"encoder": TINY_ENCODER, "readout": "sum", "head_hidden": 32, "dropout": 0.0},
               split={"method": "random", "fractions": [0.75, 0.125, 0.125]})
    res = train_mod.finetune(cfg)
    hist = json.loads((res.out_dir / "history.json").read_text())["0"]
    assert hist[0]["train_loss"] > 0.3
    assert hist[-1]["train_loss"] < 0.02  # standardised MSE near 0


def test_frozen_encoder_stays_fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    tiny_regression: TinyDataset) -> None:
    _patch(monkeypatch, tiny_regression)
    cfg = _cfg(tmp_path, optim={"epochs": 2, "batch_size": 4, "freeze_encoder": True})
    torch.manual_seed(0)
    res = train_mod.finetune(cfg)
    b = load_bundle(res.bundle_path)
    from harmony_mol.utils.seed import seed_everything

    seed_everything(0, deterministic=True)
    fresh = build_encoder(b.encoder_config, b.input_dims).state_dict()
    for k, v in b.members[0].encoder.items():
        assert torch.equal(v, fresh[k]), k


def test_bad_bundles_give_clear_errors(tmp_path: Path) -> None:
    p = tmp_path / "old.pt"
    torch.save({"kind": "harmony-model", "format_version": 0, "package_version": "0.0.1"}, p)
    with pytest.raises(BundleError, match="format version 0 is not supported"):
        load_bundle(p)
    torch.save({"kind": "encoder", "format_version": 1}, p)
    with pytest.raises(BundleError, match="encoder checkpoint"):
        load_bundle(p)
    torch.save([1, 2, 3], p)
    with pytest.raises(BundleError, match="not a harmony-mol model bundle"):
        load_bundle(p)
    p.write_text("hello")
    with pytest.raises(BundleError, match="cannot be read"):
        load_bundle(p)
    with pytest.raises(BundleError, match="not found"):
        load_bundle(tmp_path / "missing.pt")


def test_unknown_target_and_config_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          tiny_regression: TinyDataset) -> None:
    _patch(monkeypatch, tiny_regression)
    with pytest.raises(ValueError, match="not in the dataset"):
        train_mod.finetune(_cfg(tmp_path, data={"input": "tiny", "target_columns": ["nope"]}))
    with pytest.raises(ValueError):
        _cfg(tmp_path, split={"method": "random", "fractions": [0.5, 0.5, 0.5]})


def test_non_finite_model_is_not_saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       tiny_regression: TinyDataset) -> None:
    """Issue 14 item 5: a model whose validation metric is NaN is refused, and no model.pt is written."""
    tiny_regression.tensors()["y"][3, 0] = float("inf")
    monkeypatch.setattr(train_mod, "resolve_dataset", lambda cfg, spec: tiny_regression)
    cfg = _cfg(tmp_path, data={"input": "tiny", "target_columns": ["n_heavy"]}, optim={"epochs": 2, "batch_size": 8})
    with pytest.raises(ValueError, match="non-finite"):
        train_mod.finetune(cfg)
    assert not list(tmp_path.rglob("model.pt"))


def test_declared_sizes_are_checked_against_the_tensors_before_building(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        tiny_regression: TinyDataset) -> None:
    """Issue 14 item 9: a declared hidden size of 2,000,000 is refused before any model is built.

    A bundle (or encoder checkpoint) declaring it is refused in well under a second with one line (it used to
    reach 2.4 GB RSS, then ask for 16 TB).
    """
    import resource
    import time

    from typer.testing import CliRunner

    from harmony_mol.cli import app

    _patch(monkeypatch, tiny_regression)
    res = train_mod.finetune(_cfg(tmp_path, optim={"epochs": 1, "batch_size": 8}))
    raw = torch.load(res.bundle_path, weights_only=True)
    raw["encoder_config"]["hidden_dim"] = 2_000_000
    bad = tmp_path / "huge.pt"
    torch.save(raw, bad)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with pytest.raises(BundleError, match=r"huge\.pt: member 0 encoder weight .* declares \[.*2000000"):
        load_bundle(bad)
    assert time.perf_counter() - t0 < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0 < 100_000  # KiB: nothing was allocated
    raw["encoder_config"]["hidden_dim"] = TINY_ENCODER["hidden_dim"]
    raw["head_config"]["hidden_dim"] = 7  # head weights are 16 wide
    torch.save(raw, bad)
    with pytest.raises(BundleError, match="member 0 head weight"):
        load_bundle(bad)
    inp = tmp_path / "in.csv"
    inp.write_text("smiles\nCCO\n")
    out = CliRunner().invoke(app, ["predict", "-m", str(bad), "-i", str(inp), "-o", str(tmp_path / "p.csv")])
    assert out.exit_code == 1 and out.output.startswith("error: ") and len(out.output.strip().splitlines()) == 1

    b = load_bundle(res.bundle_path)
    enc = tmp_path / "enc.pt"
    save_checkpoint(enc, {"encoder_config": {**b.encoder_config, "hidden_dim": 2_000_000},
                          "input_dims": b.input_dims, "featurizer_spec": b.featurizer_spec,
                          "student": b.members[0].encoder})
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"enc\.pt: student weight .* declares"):
        load_encoder(enc)
    assert time.perf_counter() - t0 < 1.0


def test_scratch_encoder_trains_at_the_full_rate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 tiny_regression: TinyDataset) -> None:
    """A random-init encoder gets LR x1.0 by default, a pretrained one x0.1; an explicit value wins (issue 15)."""
    _patch(monkeypatch, tiny_regression)
    captured: list[list[float]] = []
    real_adamw = torch.optim.AdamW

    def spy(groups: list[dict], *a: object, **k: object) -> torch.optim.Optimizer:
        captured.append([g["lr"] for g in groups])
        return real_adamw(groups, *a, **k)

    monkeypatch.setattr(torch.optim, "AdamW", spy)
    res = train_mod.finetune(_cfg(tmp_path / "a", optim={"epochs": 1, "batch_size": 4, "lr": 1e-3}))
    assert captured[-1] == [1e-3, 1e-3]  # head, encoder
    assert json.loads((res.out_dir / "metrics.json").read_text())["encoder"]["lr_mult"] == 1.0
    ckpt = tmp_path / "enc.pt"
    b = load_bundle(res.bundle_path)
    enc = build_encoder(b.encoder_config, b.input_dims)
    save_checkpoint(ckpt, {"student": enc.state_dict(), "teacher": enc.state_dict(), "step": 0,
                           "encoder_config": b.encoder_config, "input_dims": b.input_dims,
                           "featurizer_spec": tiny_regression.spec.to_dict()})
    train_mod.finetune(_cfg(tmp_path / "b", model={"pretrained": str(ckpt), "readout": "mean_max", "head_hidden": 16},
                            optim={"epochs": 1, "batch_size": 4, "lr": 1e-3}))
    assert captured[-1] == pytest.approx([1e-3, 1e-4])
    train_mod.finetune(_cfg(tmp_path / "c", optim={"epochs": 1, "batch_size": 4, "lr": 1e-3, "encoder_lr_mult": 0.5}))
    assert captured[-1] == pytest.approx([1e-3, 5e-4])
