"""End-to-end pretraining on 64 real molecules.

The loss decreases, checkpoints load with weights_only=True, and a run killed with SIGKILL resumes to
the same final loss.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from harmony_mol.config import load_config
from harmony_mol.data.loaders import FastGraphLoader
from harmony_mol.data.store import load_dataset
from harmony_mol.models.io import load_checkpoint, load_encoder
from harmony_mol.ssl.config import PretrainConfig
from harmony_mol.ssl.pretrain import pretrain

TINY = {"encoder.hidden_dim": 32, "encoder.wgcn_hidden": 32, "encoder.mlp_hidden": 32, "encoder.heads": 2,
        "encoder.edge_dim": 8, "encoder.gate_hidden": 8}


@pytest.fixture(scope="module")
def mols64(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64 MOSES/ZINC molecules featurized with the real pipeline into a dataset directory."""
    from harmony_mol.data.build import build_dataset
    from harmony_mol.data.config import FeaturizeConfig

    tmp = tmp_path_factory.mktemp("mols64")
    src = shared_data / "pretrain" / "moses_zinc_samples" / "train10k.csv"
    lines = src.read_text().splitlines()[:65]
    (tmp / "mols.csv").write_text("\n".join(lines) + "\n")
    info = build_dataset(FeaturizeConfig(inputs=(str(tmp / "mols.csv"),), output=tmp / "ds", kind="molecule",
                                         smiles_column="SMILES", target_columns=()))
    assert info.n_graphs == 64
    return Path(info.path)


def _cfg(ds: Path, out: Path, **over: object) -> PretrainConfig:
    base = {**TINY, "dataset": str(ds), "out_dir": str(out), "batch_size": 16, "epochs": 3, "log_every": 1,
            "checkpoint_every": 2, "device": "cpu", "progress": False, "optim.warmup_steps": 2,
            "masking.strategy": "prob", "masking.difficulty_source": "buffer"}
    return load_config(PretrainConfig, None, {**base, **over})


def _losses(out: Path) -> list[float]:
    with open(out / "loss.csv") as fh:
        return [float(r["loss"]) for r in csv.DictReader(fh)]


def test_tiny_pretrain_decreases_loss_and_checkpoint_round_trip(mols64: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    path = pretrain(_cfg(mols64, out, epochs=5, **{"optim.lr": 3e-3}))
    losses = _losses(out)
    assert len(losses) == 20
    assert sum(losses[-4:]) / 4 < 0.7 * sum(losses[:4]) / 4
    assert (out / "loss.png").stat().st_size > 0 and (out / "config.yaml").is_file()
    raw = torch.load(path, weights_only=True)  # plain data only
    assert raw["kind"] == "encoder" and raw["step"] == 20 and raw["featurizer_spec"]["kind"] == "molecule"
    batch = next(iter(FastGraphLoader(load_dataset(mols64), batch_size=8)))
    for which in ("student", "teacher"):
        enc, meta = load_encoder(path, which)
        assert meta["step"] == 20 and "student" not in meta
        ref_state = raw[which]
        assert all(torch.equal(enc.state_dict()[k], v) for k, v in ref_state.items())
        with torch.no_grad():
            z = enc(batch)
        assert z.shape == (batch.x.size(0), 32) and torch.isfinite(z).all()
    with pytest.raises(ValueError):
        load_encoder(path, "predictor")


def test_resume_after_sigkill_matches_uninterrupted(mols64: Path, tmp_path: Path) -> None:
    ref_out, kill_out = tmp_path / "ref", tmp_path / "killed"
    pretrain(_cfg(mols64, ref_out, epochs=2, log_every=3))
    ref = _losses(ref_out)
    # the child SIGKILLs itself right before optimiser step 6 (its last checkpoint is step 4)
    script = "\n".join([
        "import json, os, signal, sys",
        "from harmony_mol.config import load_config",
        "from harmony_mol.ssl.config import PretrainConfig",
        "from harmony_mol.ssl import step as step_mod",
        "from harmony_mol.ssl.pretrain import pretrain",
        "orig = step_mod.SSLStepper.loss",
        "def loss(self, batch, i, warm):",
        "    if i == 5:",
        "        os.kill(os.getpid(), signal.SIGKILL)",
        "    return orig(self, batch, i, warm)",
        "step_mod.SSLStepper.loss = loss",
        "pretrain(load_config(PretrainConfig, None, json.loads(sys.argv[1])))",
    ])
    over = json.dumps(_cfg_overrides(mols64, kill_out, epochs=2, log_every=3))
    proc = subprocess.run([sys.executable, "-c", script, over], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert not (kill_out / "encoder.pt").exists()
    assert load_checkpoint(kill_out / "last.pt")["step"] == 4
    pretrain(_cfg(mols64, kill_out, epochs=2, log_every=3), resume=True)
    got = _losses(kill_out)
    assert len(got) == len(ref) == 3  # rows at steps 3, 6, 8; the kill split the 4-6 window
    assert got[-1] == pytest.approx(ref[-1], rel=0.01)
    assert got == pytest.approx(ref, rel=1e-4)  # in fact the same batches and masks, step by step
    a = torch.load(ref_out / "encoder.pt", weights_only=True)["student"]
    b = torch.load(kill_out / "encoder.pt", weights_only=True)["student"]
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


def test_resume_refuses_a_different_config(mols64: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    pretrain(_cfg(mols64, out, max_steps=2))
    with pytest.raises(ValueError, match="cannot resume"):
        pretrain(_cfg(mols64, out, max_steps=4, **{"masking.ratio": 0.5}), resume=True)


def _cfg_overrides(ds: Path, out: Path, **over: object) -> dict[str, object]:
    from harmony_mol.config import config_to_dict

    cfg = config_to_dict(_cfg(ds, out, **over))
    flat: dict[str, object] = {}
    for k, v in cfg.items():
        if isinstance(v, dict):
            flat.update({f"{k}.{kk}": vv for kk, vv in v.items()})
        else:
            flat[k] = v
    return flat


def test_cli_pretrain_and_bad_override(mols64: Path, tmp_path: Path, repo_root: Path) -> None:
    from typer.testing import CliRunner

    from harmony_mol.cli import app

    runner = CliRunner()
    yaml_path = str(repo_root / "configs" / "pretrain" / "cpu_small.yaml")
    args = ["pretrain", "--config", yaml_path, f"dataset={mols64}",
            f"out_dir={tmp_path / 'cli'}", "max_steps=2", "batch_size=16", "progress=false",
            "encoder.hidden_dim=16", "encoder.wgcn_hidden=16", "encoder.mlp_hidden=16"]
    res = runner.invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert res.output.strip().endswith("encoder.pt") and (tmp_path / "cli" / "encoder.pt").is_file()
    res = runner.invoke(app, ["pretrain", "--config", yaml_path, "masking.nope=1"])
    assert res.exit_code == 2 and "unknown key" in res.output


def test_speed_pretrain_reports_both_models_and_loaders(shared_data: Path) -> None:
    from harmony_mol.benchmark.speed.pretrain import format_report, measure_pretrain

    res = measure_pretrain(n_graphs=24, batch_size=8, steps=1, rounds=2, hidden=16, device="cpu", data_dir=shared_data,
                           overrides=["encoder.heads=2"])
    got = {(r["model"], r["loader"]) for r in res["rows"]}
    assert got == {(m, lo) for m in ("harmony-ssl", "gine-attrmask") for lo in ("pyg", "fast")}
    assert all(r["graphs_per_s"] > 0 for r in res["rows"]) and set(res["ratio"]) == {"pyg", "fast"}
    assert "ours / GINE" in format_report(res)


def test_speed_pretrain_builds_the_heads_the_objective_asks_for(shared_data: Path) -> None:
    from harmony_mol.benchmark.speed.pretrain import measure_pretrain

    over = ["encoder.heads=2", "objective.loss=byol", "objective.predictor=true", "objective.predictor_hidden=8",
            "objective.recon_weight=10", "objective.graph_weight=1", "masking.mask_edges=true"]
    res = measure_pretrain(n_graphs=16, batch_size=8, steps=1, rounds=1, hidden=16, device="cpu", data_dir=shared_data,
                           overrides=over)
    # predictor 16 -> 8 (LayerNorm) -> 16, plus a Linear(16, n_elements) attribute-masking head
    assert res["params"]["harmony-ssl (heads)"] > 16 * 8 + 8 + 16 + 8 * 16 + 16
    assert res["objective"]["recon_weight"] == 10.0 and all(r["graphs_per_s"] > 0 for r in res["rows"])


@pytest.mark.parametrize("over", [
    {"masking.strategy": "diffi", "masking.difficulty_source": "unmasked", "objective.loss": "sce"},
    {"masking.strategy": "random", "objective.predictor": True, "objective.predictor_hidden": 16,
     "objective.loss": "byol", "objective.ema_schedule": "cosine"},
    {"masking.strategy": "prob", "masking.difficulty_source": "code", "objective.teacher_mode": "train",
     "objective.copy_buffers": False, "objective.loss": "mse", "loader": "pyg"},
    {"objective.loss_nodes": "masked", "objective.target_norm": "layer", "objective.predictor": True,
     "objective.predictor_hidden": 16, "masking.difficulty_source": "unmasked"},
    {"objective.loss_nodes": "masked", "objective.target_norm": "batch", "objective.loss": "sce",
     "masking.strategy": "random"},
    {"objective.recon_weight": 1.0, "masking.strategy": "random"},
])
def test_pretrain_switches_run(mols64: Path, tmp_path: Path, over: dict) -> None:
    out = tmp_path / "run"
    path = pretrain(_cfg(mols64, out, max_steps=5, **over))
    losses = _losses(out)
    assert len(losses) == 5 and all(v == v and v >= 0 for v in losses)
    ckpt = load_checkpoint(path)
    assert (ckpt["predictor"] is not None) == bool(over.get("objective.predictor", False))
    assert (ckpt.get("recon_head") is not None) == bool(over.get("objective.recon_weight", 0))
    assert (ckpt["state"]["difficulty"] is not None) == (over.get("masking.difficulty_source") == "code")


def test_bond_masking_and_graph_term_pretrain_and_reload(mols64: Path, tmp_path: Path) -> None:
    cfg = _cfg(mols64, tmp_path / "run", max_steps=4, **{"masking.mask_edges": True, "objective.graph_weight": 1.0})
    assert cfg.encoder.edge_mask_token  # turned on by masking.mask_edges
    path = pretrain(cfg)
    assert len(_losses(tmp_path / "run")) == 4
    raw = torch.load(path, weights_only=True)
    assert raw["student"]["edge_mask_token"].abs().sum() > 0  # trained from its zero init
    enc, _ = load_encoder(path, "student")
    assert enc.edge_mask_token is not None


def test_gin_attribute_masking_positive_control(mols64: Path, tmp_path: Path) -> None:
    """configs/pretrain/gin_attrmask.yaml (Hu et al. 2020): the GIN learns to name masked elements."""
    cfg = load_config(PretrainConfig, "configs/pretrain/gin_attrmask.yaml",
                      {"dataset": str(mols64), "out_dir": str(tmp_path / "run"), "epochs": 12, "batch_size": 16,
                       "log_every": 4, "optim.lr": 3e-3, "optim.warmup_steps": 2, "encoder.hidden_dim": 32,
                       "progress": False})
    path = pretrain(cfg)
    losses = _losses(tmp_path / "run")
    assert losses[0] > 3.5  # cross-entropy over ~120 element classes, near ln(120) at the start
    assert sum(losses[-3:]) / 3 < 0.5 * losses[0]
    raw = torch.load(path, weights_only=True)
    assert raw["encoder_config"]["arch"] == "gin" and raw["student"]["mask_token"].abs().sum() > 0
    enc, _ = load_encoder(path, "student")
    assert type(enc).__name__ == "GINEncoder"
    with pytest.raises(ValueError, match="latent_weight"):
        load_config(PretrainConfig, None, {"objective.latent_weight": 0.0})
