"""One rank of the 2-process DDP test (run by ``torchrun`` from ``test_ssl_ddp.py``; not a test module).

Usage: ``torchrun ... ddp_worker.py CONFIG_JSON RECORD_DIR``. The worker creates the gloo process
group itself (so :func:`pretrain` must use an existing group and leave it open), then runs

1. ``a``: an uninterrupted run, recording each step's graph indices and loss, the first step's
   masks and averaged gradients, and the final student / teacher weights;
2. ``b``: the same run, killed by an exception right before step ``crash_at`` on every rank,
   then resumed from its last checkpoint; records the final weights;
3. ``c``: 3 steps of a BatchNorm encoder (running statistics are per rank until synchronised);
   records the final weights.

Each rank writes ``RECORD_DIR/rank<r>.pt``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from harmony_mol.config import load_config
from harmony_mol.ssl import step as step_mod
from harmony_mol.ssl.config import PretrainConfig
from harmony_mol.ssl.pretrain import pretrain

torch.set_num_threads(1)


class Crash(RuntimeError):
    pass


def main() -> None:
    over: dict[str, Any] = json.loads(sys.argv[1])
    rec_dir = Path(sys.argv[2])
    crash_at = int(over.pop("crash_at"))
    rank = int(os.environ["RANK"])
    dist.init_process_group("gloo")
    rec: dict[str, Any] = {"steps": [], "crash": None}
    holder: dict[str, Any] = {}
    orig_loss, orig_update = step_mod.SSLStepper.loss, step_mod.SSLStepper.after_update
    orig_mask = step_mod.SSLStepper.choose_mask

    def choose_mask(self: Any, batch: Any, t: Any, i: int, warm: bool) -> torch.Tensor:
        mask = orig_mask(self, batch, t, i, warm)
        if i == 0 and "mask0" not in rec:
            rec["mask0"] = mask.cpu().clone()
        return mask

    def loss(self: Any, batch: Any, i: int, warm: bool) -> Any:
        if holder.get("crash") and i == crash_at:
            raise Crash(f"planned crash before step {i}")
        out = orig_loss(self, batch, i, warm)
        holder["st"] = self
        if holder.get("record"):
            rec["steps"].append((i, batch.graph_index.cpu().clone(), float(out)))
        return out

    def after_update(self: Any) -> None:
        if holder.get("record") and self.last.step == 0:  # gradients of step 0, after the all-reduce
            rec["grad0"] = {n: p.grad.detach().clone() for n, p in self.student.named_parameters()
                            if p.grad is not None}
        orig_update(self)

    step_mod.SSLStepper.loss, step_mod.SSLStepper.after_update = loss, after_update
    step_mod.SSLStepper.choose_mask = choose_mask

    def final_weights() -> dict[str, Any]:
        st = holder["st"]
        return {"student": {k: v.clone() for k, v in st.student.state_dict().items()},
                "teacher": {k: v.clone() for k, v in st.teacher.state_dict().items()}}

    base = {**over, "out_dir": str(rec_dir / "a")}
    holder["record"] = True
    rec["path_a"] = str(pretrain(load_config(PretrainConfig, None, base)))
    holder["record"] = False
    rec["a"] = final_weights()
    cfg_b = load_config(PretrainConfig, None, {**over, "out_dir": str(rec_dir / "b")})
    holder["crash"] = True
    try:
        pretrain(cfg_b)
    except Crash as exc:
        rec["crash"] = str(exc)
    holder["crash"] = False
    pretrain(cfg_b, resume=True)
    rec["b"] = final_weights()
    bn = {**over, "out_dir": str(rec_dir / "c"), "max_steps": 3, "encoder.branch_norm": "batch",
          "objective.copy_buffers": True}
    pretrain(load_config(PretrainConfig, None, bn))
    rec["c"] = final_weights()
    torch.save(rec, rec_dir / f"rank{rank}.pt")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
