"""End-to-end flow runs under ONE session-scoped Prefect test harness: the featurize cross-run cache,
the Dask task runner, and the whole quickstart pipeline on 40 molecules."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from harmony_mol.config import config_to_dict, load_config
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.pipeline import PipelineConfig

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _fz(csv: Path, out: Path) -> dict:
    return config_to_dict(FeaturizeConfig(inputs=(str(csv),), output=out, kind="molecule",
                                          target_columns=("target",), progress=False))


def test_featurize_second_run_is_a_cache_hit(tmp_path: Path, tiny_csv: Path) -> None:
    from flows.featurize import featurize_flow

    cfg = _fz(tiny_csv, tmp_path / "ds")
    first = featurize_flow([cfg])[0]
    assert first["n_graphs"] == 40 and first["n_rejected"] == 2 and not first["prefect_cached"]
    second = featurize_flow([cfg])[0]
    assert second["prefect_cached"], "the second run on the same input must be a Prefect cache hit"
    assert second["path"] == first["path"] and second["key"] == first["key"]
    # a cache hit whose dataset was deleted meanwhile is rebuilt
    import shutil

    shutil.rmtree(first["path"])
    again = featurize_flow([cfg])[0]
    assert not again["prefect_cached"] and (Path(again["path"]) / "manifest.json").is_file()
    # changed input content -> new key -> recomputed
    tiny_csv.write_text(tiny_csv.read_text() + "CCCCCCCC,0.8\n")
    third = featurize_flow([cfg])[0]
    assert not third["prefect_cached"] and third["n_graphs"] == 41


def test_featurize_on_local_dask_cluster(tmp_path: Path, tiny_csv: Path) -> None:
    from flows.featurize import dask_runner, featurize_flow

    other = tmp_path / "b.csv"
    other.write_text("\n".join(tiny_csv.read_text().splitlines()[:21]) + "\n")
    runner = dask_runner(n_workers=2, processes=False)
    res = featurize_flow.with_options(task_runner=runner)([_fz(tiny_csv, tmp_path / "a"), _fz(other, tmp_path / "b")])
    assert [r["n_graphs"] for r in res] == [40, 18]  # 20 rows, 2 of them bad
    assert all((Path(r["path"]) / "manifest.json").is_file() for r in res)


def test_pipeline_flow_end_to_end(tmp_path: Path, tiny_csv: Path) -> None:
    from flows.pipeline import pipeline_flow

    cfg = {
        "out_dir": str(tmp_path / "run"),
        "molecule": {
            "featurize": {"inputs": [str(tiny_csv)], "target_columns": ["target"], "progress": False},
            "pretrain": {"encoder": {"hidden_dim": 16, "wgcn_hidden": 16, "mlp_hidden": 16, "heads": 2},
                         "batch_size": 16, "epochs": 1, "device": "cpu", "log_every": 1, "progress": False},
            "finetune": {"name": "tiny", "split": {"method": "random"}, "seeds": [0], "plots": False,
                         "optim": {"epochs": 2, "batch_size": 16}, "progress": False},
            "predict_input": str(tiny_csv),
        },
    }
    path = tmp_path / "pipeline.yaml"
    import yaml

    path.write_text(yaml.safe_dump(cfg))
    load_config(PipelineConfig, path)  # the file is valid
    out = pipeline_flow(config_path=str(path), kind="molecule")
    assert Path(out["encoder"]).is_file() and Path(out["bundle"]).is_file()
    rmse = out["metrics"]["test"]["rmse"]["mean"]
    assert math.isfinite(rmse) and rmse > 0
    summary = json.loads((tmp_path / "run" / "molecule" / "summary.json").read_text())
    assert summary["bundle"] == out["bundle"]
    assert "| test | rmse |" in Path(out["summary_path"]).read_text()
    preds = Path(out["predictions"]).read_text().splitlines()
    assert len(preds) == 1 + 42  # one row per input row, rejected rows kept
    # artifacts of the run: summary markdown, metrics table, rejected-rows table
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    keys = ["pipeline-molecule", "metrics-molecule", "rejected-molecule"]
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys)))
    by_key = {a.key: a for a in arts}
    assert set(by_key) == set(keys)
    assert by_key["pipeline-molecule"].type == "markdown" and "| test | rmse |" in by_key["pipeline-molecule"].data
    assert "unclosed ring" in str(by_key["rejected-molecule"].data)
