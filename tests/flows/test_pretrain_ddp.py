"""``pretrain_task(nproc=2)``: the flow's torchrun launch of ``harmony pretrain`` (2 gloo processes on CPU).

It holds the run lock, then resumes the 2-process run through the same path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.flows.conftest import write_tiny_csv


def test_pretrain_task_launches_torchrun_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    import harmony_mol.pipeline.run as pr
    from flows.pretrain import pretrain_task
    from harmony_mol.config import config_from_dict
    from harmony_mol.data.build import build_dataset
    from harmony_mol.data.config import FeaturizeConfig
    from harmony_mol.models.io import load_checkpoint
    from harmony_mol.ssl.config import PretrainConfig
    from harmony_mol.ssl.launch import run_torchrun, torchrun_command
    from harmony_mol.utils.io import try_lock

    info = build_dataset(FeaturizeConfig(inputs=(str(write_tiny_csv(tmp_path / "t.csv", bad_rows=False)),),
                                         output=tmp_path / "ds", kind="molecule", smiles_column="smiles",
                                         target_columns=()))
    out = tmp_path / "pt"
    locked: list[bool] = []

    def launch(cfg, nproc, resume):  # the real launch, with a timeout so a hang cannot stall the suite
        locked.append(try_lock(Path(cfg.out_dir) / ".run.lock") is None)  # held by the task
        return run_torchrun(cfg, nproc, resume, timeout_s=240)

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setattr(pr, "run_torchrun", launch)
    config = config_from_dict(PretrainConfig, {
        "dataset": str(info.path), "out_dir": str(out), "batch_size": 8, "max_steps": 3, "device": "cpu",
        "progress": False, "log_every": 1, "checkpoint_every": 2,
        "encoder": {"hidden_dim": 16, "wgcn_hidden": 16, "mlp_hidden": 16, "heads": 2}})
    path = pretrain_task.fn(config, resume=True, nproc=2)
    assert locked == [True] and (free := try_lock(out / ".run.lock")) is not None  # freed after the run
    free.release()
    ckpt = load_checkpoint(path)
    assert ckpt["step"] == 3 and ckpt["state"]["world_size"] == 2
    assert len((out / "loss.csv").read_text().splitlines()) == 1 + 3

    # the next run continues the 2-process run from last.pt (harmony pretrain --resume under torchrun)
    path = pretrain_task.fn(replace(config, max_steps=5), resume=True, nproc=2)
    assert load_checkpoint(path)["step"] == 5 and len((out / "loss.csv").read_text().splitlines()) == 1 + 5

    cmd = torchrun_command(out / "torchrun.yaml", 4, resume=True)
    assert cmd[1:5] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=4"]
    assert cmd[-4:] == ["pretrain", "--config", str(out / "torchrun.yaml"), "--resume"]
