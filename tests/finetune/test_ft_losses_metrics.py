from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, mean_absolute_error, r2_score, roc_auc_score

from harmony_mol.finetune.loss import infer_task_type, masked_bce_with_logits, masked_regression_loss, positive_weights
from harmony_mol.finetune.metrics import classification_metrics, compute_metrics, regression_metrics
from harmony_mol.models.scaler import TargetScaler


def test_masked_bce_ignores_nan_labels() -> None:
    logits = torch.tensor([[0.3, -1.0], [2.0, 0.5], [-0.7, 9.0]])
    y = torch.tensor([[1.0, float("nan")], [0.0, 1.0], [float("nan"), 0.0]])
    loss = masked_bce_with_logits(logits, y)
    keep = ~torch.isnan(y)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(logits[keep], y[keep])
    assert torch.allclose(loss, ref)
    # changing the logits at missing positions does not change the loss or its gradient there
    logits2 = logits.clone().requires_grad_(True)
    masked_bce_with_logits(logits2 + torch.where(keep, 0.0, 100.0), y).backward()
    assert torch.allclose(masked_bce_with_logits(logits + torch.where(keep, 0.0, 100.0), y), ref)
    assert logits2.grad[~keep].abs().sum() == 0


def test_masked_bce_pos_weight_and_empty() -> None:
    logits = torch.zeros(2, 2)
    y = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    w = masked_bce_with_logits(logits, y, torch.tensor([3.0, 3.0]))
    assert w > masked_bce_with_logits(logits, y)
    assert masked_bce_with_logits(logits, torch.full((2, 2), float("nan"))) == 0


@pytest.mark.parametrize("kind", ["mse", "l1", "huber"])
def test_masked_regression_loss(kind: str) -> None:
    pred = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = torch.tensor([[1.5, float("nan")], [2.0, 4.0]])
    keep = ~torch.isnan(y)
    diff = pred[keep] - y[keep]
    ref = {"mse": diff.pow(2).mean(), "l1": diff.abs().mean(),
           "huber": torch.nn.functional.smooth_l1_loss(pred[keep], y[keep])}[kind]
    assert torch.allclose(masked_regression_loss(pred, y, kind), ref)


def test_scaler_round_trip_and_nan() -> None:
    y = np.array([[1.0, 5.0], [3.0, np.nan], [5.0, 5.0]])
    sc = TargetScaler.fit(y)
    assert sc.mean[0] == pytest.approx(3.0) and sc.std[0] == pytest.approx(math.sqrt(8 / 3))
    assert sc.std[1] == 1.0  # zero spread -> 1
    t = torch.tensor(y, dtype=torch.float64)
    z = sc.transform(t)
    assert torch.isnan(z[1, 1])
    assert torch.allclose(sc.inverse(z)[~torch.isnan(t)], t[~torch.isnan(t)])
    assert TargetScaler.from_dict(sc.to_dict()) == sc


def test_positive_weights_and_task_type() -> None:
    y = np.array([[1, 0], [0, 0], [0, np.nan], [0, 1]], dtype=float)
    assert positive_weights(y).tolist() == [3.0, 2.0]
    assert infer_task_type(y) == "classification"
    assert infer_task_type(np.array([[0.5], [1.0]])) == "regression"


def test_classification_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    yt = rng.integers(0, 2, size=(50, 2)).astype(float)
    ys = rng.random((50, 2))
    yt[::7, 1] = np.nan
    m = classification_metrics(yt, ys, ["a", "b"])
    keep = ~np.isnan(yt[:, 1])
    assert m["roc_auc"]["a"] == pytest.approx(roc_auc_score(yt[:, 0], ys[:, 0]))
    assert m["roc_auc"]["b"] == pytest.approx(roc_auc_score(yt[keep, 1], ys[keep, 1]))
    assert m["pr_auc"]["b"] == pytest.approx(average_precision_score(yt[keep, 1], ys[keep, 1]))
    assert m["roc_auc_mean"] == pytest.approx((m["roc_auc"]["a"] + m["roc_auc"]["b"]) / 2)
    perfect = classification_metrics(np.array([[0.0], [1.0]]), np.array([[0.1], [0.9]]), ["p"])
    assert perfect["roc_auc"]["p"] == 1.0


def test_single_class_task_is_skipped_with_warning(caplog: pytest.LogCaptureFixture) -> None:
    yt = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
    ys = np.array([[0.2, 0.1], [0.3, 0.8], [0.9, 0.3]])
    with caplog.at_level(logging.WARNING):
        m = classification_metrics(yt, ys, ["const", "ok"], split="test")
    assert m["roc_auc"]["const"] is None and m["skipped_tasks"] == ["const"]
    assert m["roc_auc_mean"] == m["roc_auc"]["ok"] == 1.0
    assert "const" in caplog.text and "test" in caplog.text


def test_regression_metrics_match_sklearn() -> None:
    yt = np.array([[1.0, 2.0], [2.0, np.nan], [4.0, 1.0], [3.0, 0.0]])
    yp = np.array([[1.5, 2.0], [1.0, 7.0], [4.0, 2.0], [2.0, 0.5]])
    m = regression_metrics(yt, yp, ["a", "b"])
    assert m["rmse"]["a"] == pytest.approx(math.sqrt(np.mean((yt[:, 0] - yp[:, 0]) ** 2)))
    assert m["mae"]["a"] == pytest.approx(mean_absolute_error(yt[:, 0], yp[:, 0]))
    assert m["r2"]["a"] == pytest.approx(r2_score(yt[:, 0], yp[:, 0]))
    keep = ~np.isnan(yt[:, 1])
    assert m["mae"]["b"] == pytest.approx(mean_absolute_error(yt[keep, 1], yp[keep, 1]))
    assert m["rmse_mean"] == pytest.approx((m["rmse"]["a"] + m["rmse"]["b"]) / 2)
    with pytest.raises(ValueError):
        compute_metrics("ranking", yt, yp, ["a", "b"])


def test_kfold_split_partitions() -> None:
    from harmony_mol.finetune.data import kfold_split

    seen_test: list[int] = []
    for fold in range(5):
        tr, va, te = kfold_split(23, 5, fold, seed=3)
        assert sorted(tr + va + te) == list(range(23)) and not set(tr) & set(va) | set(tr) & set(te)
        seen_test += te
    assert sorted(seen_test) == list(range(23))
    with pytest.raises(ValueError):
        kfold_split(10, 2, 0, 0)
