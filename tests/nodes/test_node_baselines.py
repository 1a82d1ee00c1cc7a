"""Reference rows of the node report (random-init, raw-features, supervised, GraphMAE) and results.csv."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from harmony_mol.benchmark.nodes import baselines as B
from harmony_mol.benchmark.nodes.bench import QUICK, load_run_config
from harmony_mol.benchmark.nodes.config import NodeRunConfig
from harmony_mol.benchmark.nodes.datasets import load_node_dataset
from harmony_mol.benchmark.nodes.graphmae import GraphMAE, GraphMAEConfig
from harmony_mol.benchmark.nodes.probe import linear_probe
from harmony_mol.benchmark.nodes.report import RESULT_FIELDS, write_report
from harmony_mol.benchmark.nodes.train import _Pretrainer, graph_record
from harmony_mol.config import ConfigError, load_config
from harmony_mol.trainer import warmup_cosine

SMALL = "encoder={hidden_dim: 32, wgcn_hidden: 32, mlp_hidden: 32}"


@pytest.fixture(scope="module")
def texas(shared_data):
    import os

    os.environ["HARMONY_DATA_DIR"] = str(shared_data)
    return load_node_dataset("texas")


@pytest.fixture(scope="module")
def quick_cfg(shared_data) -> NodeRunConfig:
    cfg, _ = load_run_config("texas", None, quick=True, overrides=[SMALL])
    return cfg


def test_each_baseline_runs_on_texas(texas, quick_cfg) -> None:
    rows, secs = B.run_baselines(quick_cfg, texas)
    assert [r["model"] for r in rows] == ["random-init", "raw-features", "supervised", "graphmae"]
    assert set(secs) == set(quick_cfg.baselines)
    for r in rows:
        assert tuple(r) == B.ROW_KEYS
        assert (r["dataset"], r["split"], r["seed"]) == ("texas", 0, 0)
        assert 0.0 <= r["val_selected_test"] <= r["test_max"] + 1e-9 <= 1.0 + 1e-9 and 0.0 < r["val_acc"] <= 1.0
    by = {r["model"]: r for r in rows}
    assert by["random-init"]["epoch"] == 0 and by["raw-features"]["epoch"] == 0
    assert 1 <= by["supervised"]["epoch"] <= QUICK["supervised.epochs"]
    assert by["graphmae"]["epoch"] in (3, 6)  # probed every graphmae.eval_every = 3 epochs


def test_graphmae_gcn_switch_runs(texas) -> None:
    cfg, _ = load_run_config("texas", None, quick=True, overrides=[SMALL, "graphmae.encoder=gcn"])
    (row,), _ = B.run_baselines(cfg, texas, ["graphmae"])
    assert row["model"] == "graphmae" and 0.0 <= row["val_selected_test"] <= 1.0


def test_random_init_uses_untrained_weights(texas, quick_cfg, monkeypatch) -> None:
    data = graph_record(texas, quick_cfg.feature_norm)
    fresh = B.build_encoder(quick_cfg, data, seed=0)
    ssl_init = _Pretrainer(quick_cfg, data, seed=0, device=torch.device("cpu")).student
    # the same initial weights the SSL run starts from (same architecture, same seed scheme)
    for (k, a), (k2, b) in zip(fresh.state_dict().items(), ssl_init.state_dict().items()):
        assert k == k2 and torch.equal(a, b), k

    built = []
    real_build = B.build_encoder

    def spy(*args, **kwargs):
        enc = real_build(*args, **kwargs)
        built.append((enc, {k: v.clone() for k, v in enc.state_dict().items()}))
        return enc

    monkeypatch.setattr(B, "build_encoder", spy)
    (row,) = B.random_init_rows(quick_cfg, texas)
    (enc, before), = built
    assert not enc.training and all(p.grad is None for p in enc.parameters())  # no backward, no step
    for k, v in enc.state_dict().items():
        assert torch.equal(v, before[k]) and torch.equal(v, fresh.state_dict()[k]), k
    with torch.no_grad():
        z = fresh.eval()(data)
    pr = linear_probe(z, texas.y, texas.train_masks[0], texas.val_masks[0], texas.test_masks[0], texas.num_classes,
                      quick_cfg.probe_lr, quick_cfg.probe_weight_decay, quick_cfg.probe_epochs, seed=0)
    assert (row["val_acc"], row["val_selected_test"]) == (pr.val_acc, pr.test_acc)


def test_graphmae_modules_on_toy_graph() -> None:
    x = torch.rand(6, 5)
    ei = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4, 4, 5], [1, 0, 2, 1, 3, 2, 4, 3, 5, 4]])
    for enc in ("gat", "gcn"):
        cfg = GraphMAEConfig(encoder=enc, hidden=8, heads=2)
        model = GraphMAE(5, cfg)
        loss = model.loss(x, ei, torch.Generator().manual_seed(0))
        loss.backward()
        assert torch.isfinite(loss) and model.enc_mask_token.grad is not None
        assert model.embed(x, ei).shape == (6, 8) and not model.training
    gat = GraphMAE(5, GraphMAEConfig())  # published Cora setup: 4 heads x 128 = 512, 1-head decoder
    assert gat.encoder.convs[0].heads == 4 and gat.encoder.convs[0].out_channels == 128
    assert gat.decoder.convs[0].heads == 1 and gat.decoder.convs[0].out_channels == 5
    assert warmup_cosine(0, 100, 0, angle_first=True) == pytest.approx(1.0)  # GraphMAE's cosine LR
    assert warmup_cosine(100, 100, 0, angle_first=True) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        GraphMAEConfig(encoder="gin")  # type: ignore[arg-type]


def test_config_rejects_unknown_baseline_and_keys() -> None:
    with pytest.raises((ConfigError, ValueError), match="unknown baseline"):
        load_config(NodeRunConfig, None, ["dataset=texas", "baselines=[random-init, dgi]"])
    with pytest.raises((ConfigError, ValueError), match=r"graphmae: unknown key\(s\) epoch; valid keys here: alpha,"):
        load_config(NodeRunConfig, None, ["dataset=texas", "graphmae.epoch=5"])
    with pytest.raises((ConfigError, ValueError),
                       match=r"supervised: unknown key\(s\) learning_rate; valid keys here: dropout,"):
        load_config(NodeRunConfig, None, ["dataset=texas", "supervised.learning_rate=0.1"])
    with pytest.raises((ConfigError, ValueError), match="gat' or 'gcn"):
        load_config(NodeRunConfig, None, ["dataset=texas", "graphmae.encoder=gin"])
    cfg = load_config(NodeRunConfig, None, ["dataset=texas", "baselines=[supervised]", "supervised.epochs=5"])
    assert cfg.baselines == ("supervised",) and cfg.supervised == {"epochs": 5}
    with pytest.raises(ValueError):
        B.run_baselines(cfg, None, ["dgi"])  # type: ignore[arg-type]


def _record(dataset: str, n_splits: int, seeds: list[int], baselines: bool) -> dict:
    splits = [{"split": s, "seed": k, "epoch_val": 10, "val_acc": 0.5, "test_at_val": 0.6, "epoch_test_max": 20,
               "test_max": 0.7, "seconds": 1.0} for k in seeds for s in range(n_splits)]
    rows = [{"dataset": dataset, "split": s, "seed": k, "model": m, "val_acc": 0.4, "val_selected_test": 0.45,
             "test_max": 0.5, "epoch": 0} for m in ("random-init", "supervised", "graphmae")
            for k in seeds for s in range(n_splits)]
    rec = {"dataset": dataset, "config": {"masking": "prob", "seeds": seeds, "preset": "code", "mask_ratio": 0.5,
                                          "exploit": 0.5, "mask_warmup": 1, "teacher_mode": "eval",
                                          "copy_buffers": True, "loss": "l2", "momentum": 0.99, "epochs": 20,
                                          "lr": 1e-3, "weight_decay": 0.0, "pretrain_per_split": True},
           "config_file": "<defaults>", "encoder_config": {}, "splits": splits, "wall_seconds": 1.0,
           "summary": {"test_at_val_mean": 60.0, "test_at_val_std": 0.0, "test_max_mean": 70.0,
                       "test_max_std": 0.0, "val_mean": 50.0, "n": len(splits), "seconds": 1.0},
           "raw_probe": {"mean": 55.0, "std": 1.0, "n": n_splits}, "hardware": {}, "git_commit": "x"}
    if baselines:
        rec["baseline_rows"] = rows + [{"dataset": dataset, "split": s, "seed": 0, "model": "raw-features",
                                        "val_acc": 0.5, "val_selected_test": 0.55, "test_max": 0.55, "epoch": 0}
                                       for s in range(n_splits)]
    return rec


def test_results_csv_one_row_per_dataset_split_seed_model(tmp_path) -> None:
    runs = [_record("cora", 1, [0, 1], True), _record("texas", 3, [0], True), _record("actor", 2, [0], False)]
    write_report(tmp_path, runs)
    with (tmp_path / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == RESULT_FIELDS and "val_selected_test_pct" in rows[0] and "model" in rows[0]
    keys = [(r["dataset"], r["split"], r["seed"], r["model"]) for r in rows]
    assert len(keys) == len(set(keys))
    cora = {r["model"] for r in rows if r["dataset"] == "cora"}
    assert cora == {"harmony", "random-init", "raw-features", "supervised", "graphmae"}
    assert sum(r["dataset"] == "cora" and r["model"] == "harmony" for r in rows) == 2  # 1 split x 2 seeds
    assert sum(r["dataset"] == "texas" for r in rows) == 3 * 4 + 3  # 3 splits x (4 models, seed 0) + raw-features
    assert {r["model"] for r in rows if r["dataset"] == "actor"} == {"harmony"}  # an old record still reports
    assert float(next(r for r in rows if r["model"] == "harmony")["val_selected_test_pct"]) == pytest.approx(60.0)
    summary = (tmp_path / "summary.csv").read_text().splitlines()
    assert summary[0].startswith("dataset,") and "graphmae_mean" in summary[0] and len(summary) == 4
    report = (tmp_path / "report.md").read_text()
    assert "| random-init | raw-features | supervised | graphmae |" in report
    assert "45.00 ± 0.00 (n=2)" in report and "55.00 ± 1.00 (n=2)" in report  # actor: raw_probe fallback
    json.dumps(runs)  # records stay JSON-able
