"""``harmony speed startup``: CPU seconds of ``harmony predict`` on one SMILES, against ``import torch``.

Each figure is the CPU time (user + system, this process's children) of a fresh interpreter, the best of
``repeats`` runs (the least disturbed by other load; wall time on a shared machine says little). The floor is
``python -c "import torch"``: no command that runs a torch model starts faster. ``eager`` is the same predict
with the deferred imports switched off (``HARMONY_EAGER_IMPORTS=1``), i.e. what start-up cost before.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HARMONY = [sys.executable, "-c", "from harmony_mol.cli import main; main()"]


def _cpu_run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU-s, wall-s) of one child process; raises ``RuntimeError`` with its stderr when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed: {res.stderr.strip()[-300:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def measure_startup(model: Path | None = None, repeats: int = 3, smiles: str = "CCO") -> dict[str, Any]:
    """Best-of-``repeats`` CPU seconds of ``import torch``, ``harmony predict`` (one SMILES) and eager predict.

    ``model`` defaults to a fresh untrained bundle of the default size.
    """
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    with tempfile.TemporaryDirectory(prefix="harmony-startup-") as tmp:
        d = Path(tmp)
        if model is None:
            from harmony_mol.benchmark.speed.predict import default_bundle
            from harmony_mol.models.io import save_bundle

            model = save_bundle(default_bundle(), d / "model.pt")
        src = d / "one.csv"
        src.write_text(f"smiles\n{smiles}\n")
        predict = [*HARMONY, "-q", "predict", "-m", str(model), "-i", str(src), "-o", str(d / "p.csv"),
                   "--no-progress"]
        env = {k: v for k, v in os.environ.items() if k != "HARMONY_EAGER_IMPORTS"}
        runs: dict[str, list[tuple[float, float]]] = {"import_torch": [], "predict": [], "predict_eager": []}
        for _ in range(repeats):  # interleaved, so a burst of other load hits every figure alike
            runs["import_torch"].append(_cpu_run([sys.executable, "-c", "import torch"], env))
            runs["predict"].append(_cpu_run(predict, env))
            runs["predict_eager"].append(_cpu_run(predict, {**env, "HARMONY_EAGER_IMPORTS": "1"}))
    out: dict[str, Any] = {"repeats": repeats, "model": str(model)}
    for name, vals in runs.items():
        out[f"{name}_cpu_s"] = min(c for c, _ in vals)
        out[f"{name}_cpu_s_median"] = statistics.median(c for c, _ in vals)
        out[f"{name}_wall_s"] = min(w for _, w in vals)
    out["predict_over_floor_cpu_s"] = out["predict_cpu_s"] - out["import_torch_cpu_s"]
    out["eager_over_floor_cpu_s"] = out["predict_eager_cpu_s"] - out["import_torch_cpu_s"]
    out["python"] = sys.version.split()[0]
    out["cpus"] = os.cpu_count()
    return out
