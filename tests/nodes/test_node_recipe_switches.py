"""Recipe switches of the node SSL run: each changes what the step computes; diagnostics come with every probe."""

from __future__ import annotations

import pytest
import torch

from harmony_mol.benchmark.nodes.bench import load_run_config
from harmony_mol.benchmark.nodes.datasets import load_node_dataset
from harmony_mol.benchmark.nodes.train import _Pretrainer, graph_record, prepare_features, run_dataset

# mean read-out: with the code's cls read-out the output is already a LayerNorm output, so target_norm=layer
# would be the identity at the first step
SMALL = "encoder={hidden_dim: 16, wgcn_hidden: 16, mlp_hidden: 16, readout: mean}"


def _step(pt, epoch: int) -> float:
    """One whole step of the run, as ``trainer.fit`` takes it."""
    pt.optim.step(pt.loss(epoch))
    pt.after_update()
    return pt.last_loss


@pytest.fixture(scope="module")
def texas(shared_data):
    import os

    os.environ["HARMONY_DATA_DIR"] = str(shared_data)
    return load_node_dataset("texas")


def _cfg(*over: str):
    cfg, _ = load_run_config("texas", None, quick=True, overrides=[SMALL, "baselines=[]", *over])
    return cfg


def test_prepare_features_row_normalises_and_keeps_empty_rows() -> None:
    x = torch.tensor([[1.0, 3.0], [0.0, 0.0], [2.0, 2.0]])
    out = prepare_features(x, "row")
    assert torch.allclose(out, torch.tensor([[0.25, 0.75], [0.0, 0.0], [0.5, 0.5]]))
    assert torch.equal(prepare_features(x, "none"), x)
    with pytest.raises(ValueError):
        prepare_features(x, "l2")


@pytest.mark.parametrize("over", [
    ("loss_nodes=masked",), ("predictor=true", "predictor_hidden=8"), ("target_norm=layer",),
    ("target_norm=batch", "loss=byol"), ("recon_weight=1.0",), ("feature_norm=row",),
])
def test_each_switch_runs_and_changes_the_first_step(texas, over) -> None:
    data_base = graph_record(texas)
    base = _Pretrainer(_cfg(), data_base, seed=0, device=torch.device("cpu"))
    cfg = _cfg(*over)
    run = _Pretrainer(cfg, graph_record(texas, cfg.feature_norm), seed=0, device=torch.device("cpu"))
    l0, l1 = _step(base, 1), _step(run, 1)
    assert l1 == l1 and l1 >= 0
    assert l1 != pytest.approx(l0, rel=1e-6)  # the switch is live, not ignored
    assert (run.predictor is not None) == ("predictor=true" in over)
    assert (run.decoder is not None) == ("recon_weight=1.0" in over)


def test_masked_only_loss_equals_the_masked_mean(texas, monkeypatch) -> None:
    cfg = _cfg("loss_nodes=masked")
    run = _Pretrainer(cfg, graph_record(texas), seed=0, device=torch.device("cpu"))
    loss = _step(run, 1)
    stats = run.last_stats  # per-node squared error of this step, split by mask
    assert loss == pytest.approx(stats["loss_masked"], rel=1e-5)
    assert stats["loss_unmasked"] == stats["loss_unmasked"]  # measured, though not trained on


def test_diagnostics_recorded_with_every_evaluation(texas) -> None:
    results, rows = run_dataset(_cfg("predictor=true", "predictor_hidden=8"), texas, device="cpu")
    assert rows and results
    for r in rows:
        assert 1.0 <= r["eff_rank"] <= 16.0 + 1e-6
        for key in ("loss_masked", "loss_unmasked", "cos_masked", "cos_unmasked"):
            assert key in r
        shares = [v for k, v in r.items() if k.startswith("view_")]
        assert len(shares) == 4 and sum(shares) == pytest.approx(1.0)
