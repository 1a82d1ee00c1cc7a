"""Flow pieces that need no Prefect server.

Stage-config linking, summary, run lock, retry policy, deployment object, benchmark suite dispatch.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harmony_mol.config import ConfigError, load_config
from harmony_mol.pipeline.config import PipelineConfig, stage_configs
from harmony_mol.pipeline.lock import RunLocked, run_lock
from harmony_mol.pipeline.schedule import DeployConfig, deployment_parameters, next_max_steps
from harmony_mol.pipeline.summary import metrics_rows, summary_markdown

from .conftest import make_run

REPO = Path(__file__).resolve().parents[2]


def _pipeline(tmp_path: Path, inputs: list[str]) -> PipelineConfig:
    return load_config(PipelineConfig, None, {"out_dir": str(tmp_path / "run"),
                                              "molecule.featurize": {"inputs": inputs, "target_columns": ["target"]},
                                              "molecule.pretrain": {"epochs": 2, "encoder": {"hidden_dim": 32}},
                                              "molecule.finetune": {"optim": {"epochs": 3}}})


def test_stage_configs_link_the_stages(tmp_path: Path, tiny_csv: Path) -> None:
    st = stage_configs(_pipeline(tmp_path, [str(tiny_csv)]), "molecule")
    root = (tmp_path / "run" / "molecule").resolve()
    assert st.featurize.output == root / "dataset"
    assert st.pretrain.dataset == str(root / "dataset") and st.pretrain.out_dir == root / "pretrain"
    assert st.pretrain.epochs == 2 and st.pretrain.encoder.hidden_dim == 32
    assert st.finetune.data.input == str(root / "dataset")
    assert st.finetune.model.pretrained == root / "pretrain" / "encoder.pt"
    assert st.finetune.optim.epochs == 3 and st.finetune.out_dir == root / "finetune"
    assert st.featurize.target_columns == ("target",) and st.featurize.kind == "molecule"


def test_stage_configs_errors(tmp_path: Path, tiny_csv: Path) -> None:
    cfg = _pipeline(tmp_path, [str(tiny_csv)])
    with pytest.raises(ValueError, match="kind"):
        stage_configs(cfg, "protein")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no featurize.inputs"):
        stage_configs(cfg, "crystal")
    bad = load_config(PipelineConfig, None, {"molecule.featurize": {"inputs": ["x.csv"]},
                                             "molecule.pretrain": {"epoch": 2}})
    with pytest.raises(ConfigError, match="epoch"):
        stage_configs(bad, "molecule")


def test_quickstart_yaml_loads_both_variants() -> None:
    cfg = load_config(PipelineConfig, REPO / "configs" / "quickstart.yaml")
    for kind in ("molecule", "crystal"):
        st = stage_configs(cfg, kind, base_dir=REPO)  # type: ignore[arg-type]
        assert st.pretrain.device == "cpu" and st.pretrain.epochs <= 10
        assert all(Path(p).is_absolute() for p in st.featurize.inputs)


def test_summary_markdown_and_rows() -> None:
    metrics = {"task_type": "regression", "metric": "rmse", "target_names": ["expt"], "seeds": [0],
               "summary": {"test": {"rmse": {"mean": 1.23456, "std": 0.0, "n": 1}},
                           "valid": {"mae": {"mean": 0.5, "std": 0.1, "n": 2}}}}
    rows = metrics_rows(metrics)
    assert {"split": "test", "metric": "rmse", "mean": 1.23456, "std": 0.0, "n_seeds": 1} in rows
    md = summary_markdown(make_run(Path("/m"), metrics, Path("/p.csv"), 12.0, n_rejected=2))
    assert "| test | rmse | 1.235 |" in md and "/m/model.pt" in md and "/p.csv" in md and "2 rejected" in md


def test_run_lock_refuses_overlap_and_is_freed_when_holder_dies(tmp_path: Path, lock_holder) -> None:
    with run_lock(tmp_path):
        with pytest.raises(RunLocked, match="overlapping"), run_lock(tmp_path):
            pass
    with run_lock(tmp_path):  # freed when the block ends
        pass
    # a run in another process holds it until that process is killed
    holder = lock_holder(tmp_path / ".run.lock")
    with pytest.raises(RunLocked, match="already using"), run_lock(tmp_path):
        pass
    holder.kill()
    holder.wait()
    with run_lock(tmp_path):
        pass


def test_pretrain_task_refuses_when_locked(tmp_path: Path) -> None:
    from flows.pretrain import pretrain_task
    from harmony_mol.ssl.config import PretrainConfig

    with run_lock(tmp_path / "pt"), pytest.raises(RunLocked, match="already using"):
        pretrain_task.fn(PretrainConfig(dataset=str(tmp_path / "nope"), out_dir=tmp_path / "pt"))
    assert sorted(p.name for p in (tmp_path / "pt").iterdir()) == [".run.lock"]  # nothing else touched


def test_retry_only_on_transient_io() -> None:
    from prefect.states import Failed

    from flows.common import retry_on_io

    assert retry_on_io(None, None, Failed(data=OSError(5, "Input/output error")))
    assert retry_on_io(None, None, Failed(data=TimeoutError("nfs")))
    assert not retry_on_io(None, None, Failed(data=FileNotFoundError("x")))
    assert not retry_on_io(None, None, Failed(data=FloatingPointError("loss is NaN")))
    assert not retry_on_io(None, None, Failed(data=ValueError("bad config")))


def test_deployment_object(tmp_path: Path) -> None:
    from flows.deploy import build_deployment

    cfg = load_config(DeployConfig, REPO / "configs" / "deploy.yaml", {"dataset": "ds", "out_dir": "runs/x"})
    params = deployment_parameters(cfg, base_dir=tmp_path)
    assert params["resume"] is True and f"out_dir={tmp_path / 'runs/x'}" in params["overrides"]
    dep = build_deployment(cfg, base_dir=tmp_path)
    assert dep.entrypoint == "flows.pretrain.pretrain_flow"
    assert dep.schedules[0].schedule.cron == cfg.cron
    assert dep.concurrency_limit is None  # overlaps are refused by the run lock alone (flows/pretrain.py)
    with pytest.raises(ValueError, match="dataset"):
        load_config(DeployConfig, None, {"cron": "* * * * *"})
    with pytest.raises(ConfigError, match="concurrency_limit"):
        load_config(DeployConfig, None, {"dataset": "ds", "concurrency_limit": 1})


def test_serve_without_server_explains(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.deploy import serve_deployment

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with pytest.raises(RuntimeError, match="prefect server start"):
        serve_deployment(DeployConfig(dataset="ds"))


def test_benchmark_suite_dispatch() -> None:
    from flows.benchmark import SUITES, benchmark_flow

    assert {"nodes", "moleculenet-hu", "regression", "crystals"} <= set(SUITES)
    with pytest.raises(ValueError, match="unknown benchmark suite"):
        benchmark_flow.fn(suite="proteins")


def test_next_max_steps_without_checkpoint(tmp_path: Path) -> None:
    assert next_max_steps(tmp_path, 5) == 5
    with pytest.raises(ValueError, match="steps_per_run"):
        next_max_steps(tmp_path, 0)


def test_cli_adapters_registered() -> None:
    from typer.testing import CliRunner

    from harmony_mol.cli import app

    runner = CliRunner()
    for cmd, flag in (("quickstart", "--crystal"), ("serve", "--run-once")):
        res = runner.invoke(app, [cmd, "--help"])
        assert res.exit_code == 0 and flag in res.output
