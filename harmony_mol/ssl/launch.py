"""Launch a pretraining config on several local processes through ``torchrun`` (used by ``pretrain_flow``).

The config is written to ``<out_dir>/torchrun.yaml`` and run with the command a user types by hand,
``python -m torch.distributed.run --standalone --nproc_per_node=N harmony pretrain --config ...``.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from harmony_mol.config import dump_config
from harmony_mol.ssl.config import PretrainConfig

logger = logging.getLogger(__name__)

__all__ = ["harmony_script", "torchrun_command", "run_torchrun"]


def harmony_script() -> str:
    """Path of the installed ``harmony`` console script (beside the interpreter, else on ``PATH``).

    Raises:
        FileNotFoundError: harmony-mol is not installed as a package (``pip install -e .``).
    """
    beside = Path(sys.executable).with_name("harmony")
    if beside.is_file():
        return str(beside)
    found = shutil.which("harmony")
    if found is None:
        raise FileNotFoundError("the `harmony` command is not installed (pip install -e .); torchrun needs it")
    return found


def torchrun_command(config_yaml: str | Path, nproc: int, resume: bool) -> list[str]:
    """The ``torchrun`` command line that pretrains ``config_yaml`` on ``nproc`` local processes.

    Raises:
        ValueError: ``nproc`` < 1.
    """
    if nproc < 1:
        raise ValueError(f"nproc must be >= 1, got {nproc}")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           harmony_script(), "pretrain", "--config", str(config_yaml)]
    return cmd + (["--resume"] if resume else [])


def run_torchrun(cfg: PretrainConfig, nproc: int, resume: bool, timeout_s: float | None = None) -> Path:
    """Pretrain ``cfg`` on ``nproc`` processes and return ``<out_dir>/encoder.pt``.

    The children share this process's stdout/stderr and run in their own process group, which is
    killed if this call times out or is interrupted, so no rank outlives it.

    Raises:
        RuntimeError: torchrun failed (non-zero exit) or timed out.
    """
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, out / "torchrun.yaml")
    cmd = torchrun_command(out / "torchrun.yaml", nproc, resume)
    logger.info("launching %d processes: %s", nproc, " ".join(cmd))
    proc = subprocess.Popen(cmd, start_new_session=True)
    try:
        rc = proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"torchrun pretraining did not finish within {timeout_s} s") from exc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    if rc != 0:
        raise RuntimeError(f"torchrun pretraining failed with exit code {rc}: {' '.join(cmd)}")
    return out / "encoder.pt"
