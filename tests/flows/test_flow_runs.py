"""End-to-end flow runs under ONE session-scoped Prefect test harness.

The featurize cross-run cache, the Dask task runner, and the whole quickstart pipeline on 40 molecules.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from harmony_mol.config import load_config
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.pipeline.config import PipelineConfig

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _fz(csv: Path, out: Path) -> FeaturizeConfig:
    return FeaturizeConfig(inputs=(str(csv),), output=out, kind="molecule", target_columns=("target",), progress=False)


def test_featurize_second_run_is_a_cache_hit(tmp_path: Path, tiny_csv: Path) -> None:
    from flows.featurize import featurize_flow

    cfg = _fz(tiny_csv, tmp_path / "ds")
    first, cached = featurize_flow([cfg])[0]
    assert first.n_graphs == 40 and first.n_rejected == 2 and not cached
    second, cached = featurize_flow([cfg])[0]
    assert cached, "the second run on the same input must be a Prefect cache hit"
    assert second.path == first.path and second.key == first.key
    # a cache hit whose dataset was deleted meanwhile is rebuilt
    import shutil

    shutil.rmtree(first.path)
    again, cached = featurize_flow([cfg])[0]
    assert not cached and (Path(again.path) / "manifest.json").is_file()
    # changed input content -> new key -> recomputed
    tiny_csv.write_text(tiny_csv.read_text() + "CCCCCCCC,0.8\n")
    third, cached = featurize_flow([cfg])[0]
    assert not cached and third.n_graphs == 41


def test_featurize_on_local_dask_cluster(tmp_path: Path, tiny_csv: Path) -> None:
    from flows.featurize import dask_runner, featurize_flow

    other = tmp_path / "b.csv"
    other.write_text("\n".join(tiny_csv.read_text().splitlines()[:21]) + "\n")
    runner = dask_runner(n_workers=2, processes=False)
    res = featurize_flow.with_options(task_runner=runner)([_fz(tiny_csv, tmp_path / "a"), _fz(other, tmp_path / "b")])
    assert [r.info.n_graphs for r in res] == [40, 18]  # 20 rows, 2 of them bad
    assert all((Path(r.info.path) / "manifest.json").is_file() for r in res)


def test_pipeline_flow_end_to_end(tmp_path: Path, tiny_csv: Path) -> None:
    from flows.pipeline import pipeline_flow

    cfg = {
        "out_dir": str(tmp_path / "run"),
        "molecule": {
            "featurize": {"inputs": [str(tiny_csv)], "target_columns": ["target"], "progress": False},
            "pretrain": {"encoder": {"hidden_dim": 16, "wgcn_hidden": 16, "mlp_hidden": 16, "heads": 2},
                         "batch_size": 16, "epochs": 1, "device": "cpu", "log_every": 1, "progress": False},
            "finetune": {"name": "tiny", "split": {"method": "random"}, "seeds": [0], "plots": True,
                         "optim": {"epochs": 2, "batch_size": 16}, "progress": False},
            "predict_heldout": True,
        },
    }
    path = tmp_path / "pipeline.yaml"
    import yaml

    path.write_text(yaml.safe_dump(cfg))
    load_config(PipelineConfig, path)  # the file is valid
    out = pipeline_flow(config_path=str(path), kind="molecule")
    assert out.encoder.is_file() and out.finetuned.bundle_path.is_file()
    rmse = out.finetuned.metrics["summary"]["test"]["rmse"]["mean"]
    assert math.isfinite(rmse) and rmse > 0
    summary = json.loads((tmp_path / "run" / "molecule" / "summary.json").read_text())
    assert summary["bundle"] == str(out.finetuned.bundle_path) and summary["metrics"]["test"]["rmse"]["mean"] == rmse
    assert "| test | rmse |" in Path(out.summary_path).read_text()
    # predictions are for the held-out test rows (never trained on), beside their measured values
    import pandas as pd

    preds = pd.read_csv(out.predictions)
    tp = pd.read_csv(out.plots.parent / "test_predictions.csv")
    assert out.predictions.parent == tmp_path / "run" / "molecule"
    assert preds["smiles"].tolist() == tp["input"].tolist() and len(preds) == len(tp) > 0
    assert preds["target"].tolist() == tp["target"].tolist() and preds["target_pred"].notna().all()
    # artifacts of the run: summary markdown, metrics table, rejected-rows table
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    keys = ["pipeline-molecule", "metrics-molecule", "rejected-molecule"]
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys)))
    by_key = {a.key: a for a in arts}
    assert set(by_key) == set(keys)
    assert by_key["pipeline-molecule"].type == "markdown" and "| test | rmse |" in by_key["pipeline-molecule"].data
    assert "](data:image/png;base64," in by_key["pipeline-molecule"].data  # the plots themselves, not paths
    assert "unclosed ring" in str(by_key["rejected-molecule"].data)
    # the same stages as plain library calls (no Prefect) give the same numbers
    from harmony_mol.pipeline.config import stage_configs
    from harmony_mol.pipeline.run import run_pipeline

    plain = run_pipeline(stage_configs(load_config(PipelineConfig, path), "molecule", out_dir=tmp_path / "plain"))
    assert plain.finetuned.metrics["summary"] == out.finetuned.metrics["summary"]
    assert pd.read_csv(plain.predictions)["target_pred"].tolist() == preds["target_pred"].tolist()


def test_overlapping_pretrain_run_ends_cancelled_and_touches_nothing(tmp_path: Path) -> None:
    from flows.pretrain import pretrain_flow
    from harmony_mol.pipeline.lock import run_lock

    with run_lock(tmp_path / "pt"):
        state = pretrain_flow(overrides=[f"dataset={tmp_path / 'ds'}", f"out_dir={tmp_path / 'pt'}"],
                              steps_per_run=2, return_state=True)
    assert state.is_cancelled() and "already using" in str(state.message)
    assert sorted(p.name for p in (tmp_path / "pt").iterdir()) == [".run.lock"]


def test_benchmark_flow_regression_suite(prefect_harness, tmp_path: Path, repo_root: Path, shared_data: Path) -> None:
    """The graph-level suite through benchmark_flow: pretraining task, one task per dataset, report.

    Every model sees the same split; a second run resumes (runs no cell).
    """
    import csv

    from flows.benchmark import benchmark_flow
    from harmony_mol.benchmark.config import benchmark_config
    from harmony_mol.benchmark.run import run_benchmark

    over = [f"data_dir={shared_data}", f"work_dir={tmp_path / 'work'}", "max_rows=60", "seeds=[0]",
            "models=[harmony-pretrained, harmony-scratch, gin, gin-pretrained, rf]",
            f"pretrain.config={repo_root / 'configs/pretrain/cpu_small.yaml'}",
            f"pretrain.corpus={repo_root / 'data/molecules/freesolv.csv'}",
            "pretrain.overrides=[epochs=1, max_graphs=64, batch_size=32, encoder.hidden_dim=32, "
            "encoder.wgcn_hidden=32, encoder.mlp_hidden=32, encoder.heads=2, 'encoder.hops=[1, 2]', progress=false]"]
    out = benchmark_flow(suite="regression", datasets=["esol", "freesolv"], out=str(tmp_path / "report"),
                         quick=True, overrides=over)
    rows = list(csv.DictReader(open(tmp_path / "report" / "results.csv")))
    assert len(rows) == 2 * 5  # 2 datasets x 5 models x 1 seed x 1 split (quick: scaffold)
    assert not [r for r in rows if r["error"]]
    for ds in ("esol", "freesolv"):
        assert len({r["split_hash"] for r in rows if r["dataset"] == ds}) == 1  # identical split for every model
    assert all(float(r["test"]) > 0 for r in rows)
    assert {r["model"] for r in out["rows"]} == {"harmony-pretrained", "harmony-scratch", "gin", "gin-pretrained", "rf"}
    # a random-init encoder trains at the full LR, a pretrained one at 0.1x; each row says which
    assert {r["model"]: r["encoder_lr_mult"] for r in rows if r["dataset"] == "esol"} == {
        "harmony-pretrained": "0.1", "gin-pretrained": "0.1", "harmony-scratch": "1.0", "gin": "1.0", "rf": ""}
    assert len({r["checkpoint"] for r in rows if r["model"].endswith("-pretrained")}) == 2  # two encoders
    text = (tmp_path / "report" / "report.md").read_text()
    assert "| HarmonyGNN, pretrained | harmony |" in text and "D-MPNN (GEM table)" in text
    assert (tmp_path / "report" / "summary.png").stat().st_size > 1000
    # the same settings again: every cell is already in results.csv
    cfg = benchmark_config("regression", None, [*over, "resume=true"], quick=True, datasets=["esol", "freesolv"],
                           out_dir=tmp_path / "report")
    again = run_benchmark(cfg)
    assert again.n_run == 0 and again.n_skipped == 10
    calls = [json.loads(line) for line in (tmp_path / "report" / "calls.jsonl").read_text().splitlines()]
    assert calls[-1]["cells_run"] == 0 and calls[-1]["cells_skipped"] == 10 and calls[-2]["pid"] == calls[-1]["pid"]
    assert "0 cells run, 10 skipped" in (tmp_path / "report" / "report.md").read_text()  # each call is listed
    assert (tmp_path / "work" / "datasets" / "corpus-freesolv-harmony").is_dir()  # the corpus copy stays in work_dir
    assert not (repo_root / "data" / "molecules" / "freesolv.csv-harmony").exists()
