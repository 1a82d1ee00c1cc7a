"""Data-parallel pretraining: shard semantics, and a real 2-process gloo run on CPU under ``torchrun``.

Checked: disjoint shards, identical student and teacher on both ranks, DDP gradient = 1-process gradient of
the concatenated batch, rank-0 checkpoints, exact resume, logged loss = mean over ranks).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.utils.data import DistributedSampler

from harmony_mol.config import load_config
from harmony_mol.models.io import load_checkpoint, load_encoder
from harmony_mol.ssl.config import PretrainConfig
from harmony_mol.ssl.distributed import shard_order, world_from_env

WORKER = Path(__file__).with_name("ddp_worker.py")
TINY = {"encoder.hidden_dim": 16, "encoder.wgcn_hidden": 16, "encoder.mlp_hidden": 16, "encoder.heads": 2,
        "encoder.edge_dim": 8, "encoder.gate_hidden": 8}
N_GRAPHS, BATCH, CRASH_AT = 61, 8, 5  # 61 graphs over 2 ranks: 31 each (one padded), 4 steps per epoch


@pytest.fixture(scope="module")
def mols64(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64 MOSES/ZINC molecules featurized with the real pipeline."""
    from harmony_mol.data.build import build_dataset
    from harmony_mol.data.config import FeaturizeConfig

    tmp = tmp_path_factory.mktemp("ddp_mols")
    lines = (shared_data / "pretrain" / "moses_zinc_samples" / "train10k.csv").read_text().splitlines()[:65]
    (tmp / "mols.csv").write_text("\n".join(lines) + "\n")
    info = build_dataset(FeaturizeConfig(inputs=(str(tmp / "mols.csv"),), output=tmp / "ds", kind="molecule",
                                         smiles_column="SMILES", target_columns=()))
    return Path(info.path)


def _overrides(ds: Path, **over: Any) -> dict[str, Any]:
    return {**TINY, "dataset": str(ds), "max_graphs": N_GRAPHS, "batch_size": BATCH, "epochs": 2,
            "log_every": 2, "checkpoint_every": 3, "device": "cpu", "progress": False, "seed": 3,
            "optim.warmup_steps": 2, "optim.grad_clip": 0.0, "masking.strategy": "prob",
            "masking.difficulty_source": "buffer", **over}


@pytest.mark.parametrize("n,world", [(10, 2), (11, 2), (7, 3), (2, 4), (5, 1)])
def test_shard_order_matches_distributed_sampler(n: int, world: int) -> None:
    order = torch.randperm(n, generator=torch.Generator().manual_seed(n))
    shards = [shard_order(order, r, world) for r in range(world)]
    for r, got in enumerate(shards):
        ref = list(DistributedSampler(range(n), num_replicas=world, rank=r, shuffle=False, drop_last=False))
        assert got.tolist() == order[ref].tolist()
    assert len({s.numel() for s in shards}) == 1
    assert set(torch.cat(shards).tolist()) == set(range(n))


def test_world_from_env_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    assert world_from_env() == (0, 1, 0)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "2")
    with pytest.raises(ValueError, match="torchrun environment"):
        world_from_env()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _torchrun(args: list[str], timeout: float = 240) -> subprocess.CompletedProcess:
    """``torchrun`` 2 processes on loopback; the whole process group is killed on timeout."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
           "--master_addr=127.0.0.1", f"--master_port={_free_port()}", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"torchrun timed out:\n{out[-3000:]}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, "")


def _reference_grad(ds: Path, idx: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """First-step gradient of a 1-process run with batch 2B on the two ranks' graphs and masks."""
    from harmony_mol.ssl.epoch_data import EpochData
    from harmony_mol.ssl.pretrain import _build
    from harmony_mol.utils.seed import seed_everything

    cfg = load_config(PretrainConfig, None, _overrides(ds, batch_size=2 * BATCH, out_dir="unused"))
    seed_everything(cfg.seed, cfg.deterministic)
    data = EpochData(cfg, torch.device("cpu"))
    st = _build(cfg, data, torch.device("cpu"), total_steps=8)
    st.choose_mask = lambda *a, **k: mask  # type: ignore[method-assign]
    st.optim.step(st.loss(data.fast.collate(idx), 0, warm=True))
    return {n: p.grad.detach().clone() for n, p in st.student.named_parameters() if p.grad is not None}


def test_two_process_gloo_pretrain(mols64: Path, tmp_path: Path) -> None:
    res = _torchrun([str(WORKER), json.dumps({**_overrides(mols64), "crash_at": CRASH_AT}), str(tmp_path)])
    assert res.returncode == 0, res.stdout[-4000:]
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for rec in (r0, r1):  # both ranks ran 2 epochs of 4 steps, and both crashed where planned
        assert [s[0] for s in rec["steps"]] == list(range(8)) and "before step 5" in rec["crash"]

    # epoch 0: the shards cover every graph, overlapping only in the one padded index
    seen = [torch.cat([s[1] for s in rec["steps"][:4]]) for rec in (r0, r1)]
    assert [s.numel() for s in seen] == [31, 31]
    assert set(seen[0].tolist()) | set(seen[1].tolist()) == set(range(N_GRAPHS))
    assert len(set(seen[0].tolist()) & set(seen[1].tolist())) == 1

    # same weights on both ranks at the end; the EMA teacher needed no communication to stay equal
    for which in ("student", "teacher"):
        for k, v in r0["a"][which].items():
            assert torch.equal(v, r1["a"][which][k]), (which, k)

    # with BatchNorm the running statistics are averaged over ranks, so the teacher (which copies them) agrees too
    bn_keys = [k for k in r0["c"]["teacher"] if "running_mean" in k]
    assert bn_keys
    for which in ("student", "teacher"):
        for k, v in r0["c"][which].items():
            assert torch.equal(v, r1["c"][which][k]), (which, k)

    # DDP-averaged first-step gradient == 1-process gradient of the concatenated 2B batch (same masks)
    idx = torch.cat([r0["steps"][0][1], r1["steps"][0][1]])
    ref = _reference_grad(mols64, idx, torch.cat([r0["mask0"], r1["mask0"]]))
    assert set(ref) == set(r0["grad0"])
    for k, g in ref.items():
        torch.testing.assert_close(r0["grad0"][k], g, rtol=1e-4, atol=1e-6)
        assert torch.equal(r0["grad0"][k], r1["grad0"][k])

    # rank-0 files: checkpoint loads, holds both ranks' states; logged loss = mean over ranks
    ckpt = load_checkpoint(r0["path_a"])
    assert ckpt["step"] == 8 and ckpt["state"]["world_size"] == 2 and len(ckpt["state"]["ranks"]) == 2
    assert all(torch.equal(ckpt["student"][k], v) for k, v in r0["a"]["student"].items())
    enc, meta = load_encoder(r0["path_a"])
    assert meta["step"] == 8
    with open(Path(r0["path_a"]).parent / "loss.csv") as fh:
        logged = [float(r["loss"]) for r in csv.DictReader(fh)]
    assert len(logged) == 4
    first = [s[2] for rec in (r0, r1) for s in rec["steps"][:2]]
    assert logged[0] == pytest.approx(sum(first) / 4, rel=1e-6)

    # the run killed before step 5 and resumed from its step-3 checkpoint ends where the uninterrupted one did
    for k, v in r0["a"]["student"].items():
        torch.testing.assert_close(r0["b"]["student"][k], v, rtol=0, atol=1e-6)
        torch.testing.assert_close(r1["b"]["student"][k], v, rtol=0, atol=1e-6)
    with open(tmp_path / "b" / "loss.csv") as fh:
        assert [float(r["loss"]) for r in csv.DictReader(fh)] == pytest.approx(logged, rel=1e-5)

    # a 2-process checkpoint does not resume in 1 process (different shards and generators)
    from harmony_mol.ssl.pretrain import pretrain

    with pytest.raises(ValueError, match="same number of processes"):
        pretrain(load_config(PretrainConfig, None, _overrides(mols64, out_dir=str(tmp_path / "a"), epochs=3)),
                 resume=True)
