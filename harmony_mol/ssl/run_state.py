"""What ``last.pt`` holds and how a run is restored from it exactly.

Beside the weights: optimiser, scheduler, RNG states, the mask generator, the difficulty buffer, the
loader position and the loss history (under ``torchrun``: every rank's generator and RNG state).
"""

from __future__ import annotations

from typing import Any

from harmony_mol.config import config_to_dict
from harmony_mol.nn.inputs import InputDims
from harmony_mol.ssl import distributed as ddp
from harmony_mol.ssl.config import PretrainConfig
from harmony_mol.ssl.epoch_data import EpochData
from harmony_mol.ssl.step import SSLStepper
from harmony_mol.utils.seed import rng_state, set_rng_state

__all__ = ["rank_state", "payload", "restore"]


def rank_state(st: SSLStepper, window: list[float]) -> dict[str, Any]:
    """What differs between ranks: mask generator, RNG states and the partial log window."""
    return {"mask_generator": st.gen.get_state(), "rng": rng_state(), "window": [float(v) for v in window]}


def payload(cfg: PretrainConfig, data: EpochData, st: SSLStepper, step: int, epoch: int,
             batch_in_epoch: int, history: list[list[float]], window: list[float],
             ranks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Checkpoint dict; ``ranks`` (data-parallel runs) holds every rank's :func:`rank_state`."""
    return {
        "encoder_config": config_to_dict(cfg.encoder),
        "input_dims": InputDims.from_spec_dict(data.spec.to_dict()).to_dict(),
        "featurizer_spec": data.spec.to_dict(),
        "pretrain_config": config_to_dict(cfg),
        "student": st.student.state_dict(),
        "teacher": st.teacher.state_dict(),
        "predictor": st.predictor.state_dict() if st.predictor is not None else None,
        "recon_head": st.recon_head.state_dict() if st.recon_head is not None else None,
        "optimizer": st.optim.optimizer.state_dict(),
        "scheduler": st.optim.scheduler.state_dict(),
        "step": step,
        "epoch": epoch,
        "rng": rng_state(),
        "state": {
            "batch_in_epoch": batch_in_epoch,
            "mask_generator": st.gen.get_state(),
            "difficulty": st.buffer.state_dict() if st.buffer is not None else None,
            "history": history,
            "window": [float(v) for v in window],  # partial log window (loss, masked, nodes, graphs, steps)
            "num_graphs": data.n,
            "world_size": len(ranks) if ranks else 1,
            "ranks": ranks,
        },
    }


def restore(ckpt: dict[str, Any], cfg: PretrainConfig, data: EpochData, st: SSLStepper,
             ctx: ddp.DistContext = ddp.DistContext()) -> tuple[int, int, int, list, list]:
    """Load a :func:`payload` into ``st``; return ``(step, epoch, batch in epoch, history, log window)``.

    Raises:
        ValueError: the checkpoint was written by another number of processes or a different config.
    """
    saved = ckpt["pretrain_config"]
    state = ckpt["state"]
    saved_world = int(state.get("world_size", 1))
    if saved_world != ctx.world_size:
        raise ValueError(f"cannot resume: the checkpoint was written by {saved_world} process(es), this run has "
                         f"{ctx.world_size}; resume with the same number of processes or use a new out_dir")
    now = config_to_dict(cfg)
    for key in ("encoder", "masking", "objective", "optim", "batch_size", "seed", "dataset", "max_graphs"):
        if saved.get(key) != now.get(key):
            raise ValueError(f"cannot resume: config field {key!r} differs from the checkpoint's "
                             f"({saved.get(key)!r} vs {now.get(key)!r}); use a new out_dir")
    st.student.load_state_dict(ckpt["student"])
    st.teacher.load_state_dict(ckpt["teacher"])
    if st.predictor is not None:
        st.predictor.load_state_dict(ckpt["predictor"])
    if st.recon_head is not None:
        st.recon_head.load_state_dict(ckpt["recon_head"])
    st.optim.optimizer.load_state_dict(ckpt["optimizer"])
    st.optim.scheduler.load_state_dict(ckpt["scheduler"])
    own = state["ranks"][ctx.rank] if ctx.enabled else {"mask_generator": state["mask_generator"],
                                                          "rng": ckpt["rng"], "window": state.get("window")}
    st.gen.set_state(own["mask_generator"])
    if st.buffer is not None and state.get("difficulty") is not None:
        st.buffer.load_state_dict(state["difficulty"])
    set_rng_state(own["rng"])
    window = list(own.get("window") or [0.0, 0.0, 0.0, 0.0, 0.0])
    return int(ckpt["step"]), int(ckpt["epoch"]), int(state["batch_in_epoch"]), list(state["history"]), window
