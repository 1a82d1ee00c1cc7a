"""``harmony speed predict``: end-to-end screening throughput (featurize + predict), molecules/s.

Molecules come from the shared data's ZINC samples (MOSES ``train10k``/``test``/``test_scaffolds``
and the ZINC decoys), repeated if ``n`` exceeds them. Without ``--model`` a fresh bundle of the
default encoder size (``HarmonyEncoderConfig()``, ``mean_max`` read-out, 2-layer head) is timed: the
speed does not depend on the weights.
"""

from __future__ import annotations

import csv
import gzip
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from harmony_mol.utils.provenance import hardware


def read_zinc_smiles(n: int, data: Path | None = None) -> list[str]:
    """First ``n`` SMILES of the shared ZINC samples (or of ``data``: a CSV with a SMILES-like column)."""
    from featurizers.readers import SMILES_COLUMN_NAMES, find_column

    if data is not None:
        files = [Path(data)]
    else:
        from harmony_mol.data.registry import data_dir

        root = data_dir() / "pretrain"
        files = [root / "moses_zinc_samples" / f for f in ("train10k.csv", "test.csv", "test_scaffolds.csv")]
        files.append(root / "zinc_decoys_riniker2013" / "zinc_decoys.csv.gz")
    out: list[str] = []
    for f in files:
        if not f.is_file():
            raise FileNotFoundError(f"SMILES source not found: {f}")
        opener = gzip.open if f.suffix == ".gz" else open
        with opener(f, "rt", newline="") as fh:
            reader = csv.DictReader(fh)
            col = find_column(list(reader.fieldnames or []), None, SMILES_COLUMN_NAMES, "SMILES", "input")
            for row in reader:
                out.append(row[col])
                if len(out) >= n:
                    return out
    if not out:
        raise ValueError("no SMILES found")
    return (out * (n // len(out) + 1))[:n]


def default_bundle() -> Any:
    """An untrained bundle of the default molecular size (for timing only)."""
    from featurizers.molecule import molecule_spec
    from harmony_mol.config import config_to_dict
    from harmony_mol.models.io import ModelBundle
    from harmony_mol.models.property_model import build_model
    from harmony_mol.models.registry import build_encoder
    from harmony_mol.models.scaler import TargetScaler
    from harmony_mol.nn.encoder_config import HarmonyEncoderConfig

    spec = molecule_spec("harmony")
    ecfg = HarmonyEncoderConfig()
    torch.manual_seed(0)
    enc = build_encoder(ecfg, spec.to_dict())
    head = {"hidden_dim": 256, "num_layers": 2, "dropout": 0.1}
    model = build_model(enc, 1, "mean_max", head)
    member = ModelBundle.member_from_model(model, TargetScaler.identity(1), 0, {}, {})
    return ModelBundle(encoder_config=config_to_dict(ecfg), input_dims=spec.to_dict(), featurizer_spec=spec.to_dict(),
                       readout="mean_max", head_config=head, task_type="regression", target_names=["y"],
                       members=[member])


def speed_predict(n: int = 10_000, model: Path | None = None, workers: int = 2, batch_size: int = 1024,
                  device: str = "cpu", threads: int = 1, data: Path | None = None) -> dict[str, Any]:
    """Time featurize-only, model-only and end-to-end prediction of ``n`` ZINC molecules.

    Returns:
        A flat dict of figures (molecules/s) plus the settings and hardware.
    """
    from featurizers.batch import featurize_chunk
    from featurizers.items import RawItem
    from harmony_mol.predict.api import Predictor

    if n < 1:
        raise ValueError("n must be >= 1")
    if threads > 0:
        torch.set_num_threads(threads)
    smiles = read_zinc_smiles(n, data)
    pred = Predictor.load(model, device=device, batch_size=batch_size, workers=workers) if model else \
        Predictor(default_bundle(), device=device, batch_size=batch_size, workers=workers)
    pred.predict(smiles[:256])  # warm-up: pool start-up is part of the run below, JIT/allocator warm-up is not

    def timed(fn: Callable[[Any], Any], arg: Any) -> tuple[Any, float]:
        t0 = time.perf_counter()
        out = fn(arg)
        if pred.device.type == "cuda":
            torch.cuda.synchronize()
        return out, time.perf_counter() - t0

    items = [RawItem(i, str(i), s, ()) for i, s in enumerate(smiles)]
    graphs, feat_s = timed(lambda xs: featurize_chunk(xs, pred.spec), items)
    model_s = timed(pred.predict_graphs, graphs)[1]
    df, e2e_s = timed(pred.predict, smiles)
    return {
        "n": n, "failed": int((df["error"] != "").sum()), "workers": workers, "batch_size": batch_size,
        "device": str(pred.device), "torch_threads": torch.get_num_threads(),
        "model": str(model) if model else f"untrained default (hidden {pred.bundle.encoder_config['hidden_dim']})",
        "featurize_1proc_per_s": n / feat_s, "model_only_per_s": len(graphs.kept) / model_s,
        "end_to_end_per_s": n / e2e_s, "end_to_end_s": e2e_s,
        "cpu": hardware()["cpu"],
    }
