"""`harmony predict` imports only what inference needs.

torch._dynamo, torch_geometric.datasets and torch_geometric.llm stay unloaded (they still load,
transparently, if used).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harmony_mol.config import load_config
from harmony_mol.finetune import train as train_mod
from harmony_mol.finetune.config import FinetuneConfig

from .conftest import TINY_ENCODER, TinyDataset

SCRIPT = r"""
import json, sys
from harmony_mol.cli import main
sys.argv = ["harmony", "-q", "predict", "-m", sys.argv[1], "-i", sys.argv[2], "-o", sys.argv[3], "--no-progress"]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
names = ("torch._dynamo", "torch_geometric.datasets", "torch_geometric.llm")
loaded = {n: n in sys.modules and type(sys.modules[n]).__name__ == "module" for n in names}
import torch_geometric, torch, torch._dynamo
from torch_geometric.datasets import TUDataset  # deferred modules load when used
ok = torch_geometric.datasets.TUDataset is TUDataset and hasattr(torch._dynamo, "OptimizedModule")
print(json.dumps({"loaded": loaded, "usable_after": ok}))
"""


def test_predict_does_not_import_dynamo_or_pyg_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        tiny_regression: TinyDataset) -> None:
    monkeypatch.setattr(train_mod, "resolve_dataset", lambda cfg, spec: tiny_regression)
    cfg = load_config(FinetuneConfig, None, {
        "name": "s", "out_dir": str(tmp_path), "data": {"input": "tiny"}, "plots": False,
        "split": {"method": "random", "fractions": [0.5, 0.25, 0.25]},
        "model": {"encoder": TINY_ENCODER, "head_hidden": 16}, "optim": {"epochs": 1, "batch_size": 8}})
    bundle = train_mod.finetune(cfg).bundle_path
    src = tmp_path / "one.csv"
    src.write_text("smiles\nCCO\n")
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(bundle), str(src), str(tmp_path / "p.csv")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["loaded"] == {"torch._dynamo": False, "torch_geometric.datasets": False,
                             "torch_geometric.llm": False}, out
    assert out["usable_after"]
    assert "CCO" in (tmp_path / "p.csv").read_text()
