"""Featurization throughput: ours vs DeepChem and PyG on the same inputs, one process (items/s per core).

Molecules: the first ``n`` SMILES of the MOSES ZINC sample (``pretrain/moses_zinc_samples/train10k.csv``)
through our ``featurize_smiles``, DeepChem's ``MolGraphConvFeaturizer(use_edges=True)`` and PyG's
``from_smiles``. Crystals: the first ``n_crystals`` Perov-5 validation CIFs, parsed to pymatgen
``Structure`` objects beforehand (parsing is not timed), through our ``featurize_structure`` and
DeepChem's ``CGCNNFeaturizer`` (radius 8, max 12 neighbours, offline: the CGCNN ``atom_init.json``
from the shared data directory is placed in a temporary ``DEEPCHEM_DATA_DIR`` and the download is
stubbed). Torch runs with one thread while timing, and the figures are items per CPU-second of this
process (= per core; wall-clock rates are reported alongside).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import torch

from harmony_mol.data.registry import data_dir as find_data_dir

logger = logging.getLogger(__name__)

MOSES = "pretrain/moses_zinc_samples/train10k.csv"
PEROV = "crystals/perov_5/val.csv.gz"
ATOM_INIT = "crystals/cgcnn_sample_regression/atom_init.json"


@contextlib.contextmanager
def _timing_env() -> Iterator[None]:
    """One torch thread and a temporary ``DEEPCHEM_DATA_DIR`` (unless the user set one), both undone afterwards."""
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with contextlib.ExitStack() as stack:
            if not os.environ.get("DEEPCHEM_DATA_DIR"):
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="hm-dc-"))
                stack.enter_context(mock.patch.dict(os.environ, {"DEEPCHEM_DATA_DIR": tmp}))
            yield
    finally:
        torch.set_num_threads(prev)


def _rate(fn: Callable[[Sequence[Any]], int], items: Sequence[Any], warmup: int) -> tuple[float, float, int]:
    """Items per CPU-second and per wall-second of ``fn(items)`` (which returns its failures) after a warm-up.

    CPU time of this process is the per-core figure: on a busy shared machine wall time also
    counts the time other processes held the core.
    """
    fn(items[:warmup])
    c0, t0 = time.process_time(), time.perf_counter()
    failed = fn(items)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    return len(items) / max(cpu, 1e-9), len(items) / max(wall, 1e-9), failed


def _import_deepchem() -> Any:
    for name in ("deepchem", "deepchem.models", "deepchem.models.torch_models", "deepchem.metalearning"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import deepchem

    return deepchem


def read_smiles(root: Path, n: int) -> list[str]:
    """The first ``n`` SMILES of the MOSES ZINC sample under the data directory ``root``."""
    with open(root / MOSES, newline="") as fh:
        return [r["SMILES"] for _, r in zip(range(n), csv.DictReader(fh))]


def _read_structures(root: Path, n: int) -> list[Any]:
    import warnings

    from pymatgen.core import Structure

    with gzip.open(root / PEROV, "rt", newline="") as fh, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [Structure.from_str(r["cif"], fmt="cif") for _, r in zip(range(n), csv.DictReader(fh))]


def _ours(items: Sequence[Any], crystal: bool, as_data: bool) -> int:
    """Failures of our featurizer on ``items``.

    Its numpy path (what ``harmony featurize`` writes into shards) or, with ``as_data``, the PyG ``Data``-object
    wrapper (one torch object per item).
    """
    from featurizers.crystal import crystal_spec, featurize_structure, featurize_structure_np
    from featurizers.errors import FeaturizationError
    from featurizers.molecule import featurize_smiles, featurize_smiles_np, molecule_spec

    if crystal:
        spec, to_data, to_np = crystal_spec(cutoff=8.0, max_neighbors=12), featurize_structure, featurize_structure_np
    else:
        spec, to_data, to_np = molecule_spec("harmony"), featurize_smiles, featurize_smiles_np
    bad = 0
    for i, item in enumerate(items):
        try:
            if as_data:
                to_data(item, spec, row_id=i)
            else:
                to_np(item, spec)
        except FeaturizationError:
            bad += 1
    return bad


def _pyg_molecules(smiles: Sequence[str]) -> int:
    from torch_geometric.utils import from_smiles

    return sum(1 for s in smiles if from_smiles(s).num_nodes == 0)


def _deepchem_molecules(smiles: Sequence[str]) -> int:
    feats = _import_deepchem().feat.MolGraphConvFeaturizer(use_edges=True).featurize(list(smiles))
    return sum(1 for f in feats if isinstance(f, np.ndarray))


def _deepchem_cgcnn(root: Path) -> Callable[[Sequence[Any]], int]:
    """A CGCNNFeaturizer that never touches the network (its atom table copied from ``root``)."""
    dc = _import_deepchem()
    import deepchem.feat.material_featurizers.cgcnn_featurizer as cg
    from deepchem.utils.data_utils import get_data_dir

    dst = Path(get_data_dir()) / "atom_init.json"
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / ATOM_INIT, dst)
    cg.download_url = lambda *a, **k: None
    feat = dc.feat.CGCNNFeaturizer(radius=8.0, max_neighbors=12)
    return lambda structures: sum(1 for f in feat.featurize(list(structures)) if isinstance(f, np.ndarray))


def _rounded(rates: dict[str, float | None]) -> dict[str, float | None]:
    return {k: (round(v, 1) if v is not None else None) for k, v in rates.items()}


def measure_featurize(n: int = 10_000, n_crystals: int = 500, data_dir: str | Path | None = None,
                      deepchem: bool = True) -> dict[str, Any]:
    """Measure items per CPU-second (one process, one torch thread) for every featurizer.

    Returns:
        ``{"molecules": {"harmony", "deepchem", "pyg"}, "crystals": {"harmony", "deepchem"},
        "failed": {...}, "n": ..., "n_crystals": ..., "hardware": ...}`` (rates rounded to 1 item/s;
        DeepChem entries are ``None`` when skipped).
    """
    from rdkit import RDLogger

    from harmony_mol.utils.provenance import hardware

    RDLogger.DisableLog("rdApp.*")
    root = find_data_dir(data_dir)
    smiles = read_smiles(root, n)
    structures = _read_structures(root, n_crystals)
    failed: dict[str, int] = {}
    errors: dict[str, str] = {}
    wall: dict[str, float] = {}

    def timed(key: str, fn: Callable[[Sequence[Any]], int], items: Sequence[Any], warmup: int) -> float | None:
        try:
            rate, wall[key], failed[key] = _rate(fn, items, warmup)
        except ImportError as exc:  # a featurizer (or DeepChem) is not installed
            errors[key] = f"{type(exc).__name__}: {exc}"
            logger.warning("%s skipped: %s", key, exc)
            return None
        return rate

    with _timing_env():
        mol = {"harmony": timed("mol_harmony", lambda xs: _ours(xs, False, False), smiles, 20)}
        extra = {"mol_harmony_data": timed("mol_harmony_data", lambda xs: _ours(xs, False, True), smiles, 20)}
        mol["deepchem"] = timed("mol_deepchem", _deepchem_molecules, smiles, 20) if deepchem else None
        mol["pyg"] = timed("mol_pyg", _pyg_molecules, smiles, 20)
        cry = {"harmony": timed("cry_harmony", lambda xs: _ours(xs, True, False), structures, 5), "deepchem": None}
        extra["cry_harmony_data"] = timed("cry_harmony_data", lambda xs: _ours(xs, True, True), structures, 5)
        if deepchem:
            try:
                cgcnn = _deepchem_cgcnn(root)  # built (and its atom table placed) before timing
            except ImportError as exc:
                errors["cry_deepchem"] = f"{type(exc).__name__}: {exc}"
            else:
                cry["deepchem"] = timed("cry_deepchem", cgcnn, structures, 5)
    return {"molecules": _rounded(mol), "crystals": _rounded(cry), "failed": failed, "n": len(smiles),
            "n_crystals": len(structures), "errors": errors, "harmony_data_objects": _rounded(extra),
            "wall_items_per_s": {k: round(v, 1) for k, v in wall.items()}, "hardware": hardware()}


def format_report(result: dict[str, Any]) -> str:
    """Human-readable table of :func:`measure_featurize`'s result with the speed-up ratios."""
    hw = result["hardware"]
    lines = [f"featurization throughput, items per CPU-second, one process, one torch thread ({hw.get('cpu')}, "
             f"{hw.get('cpu_count')} cores visible)"]
    for group, n, base in (("molecules", result["n"], "MOSES ZINC train10k"),
                           ("crystals", result["n_crystals"], "Perov-5 val, pre-parsed")):
        rates = result[group]
        lines.append(f"{group} (n={n}, {base}):")
        ours = rates.get("harmony")
        for name, v in rates.items():
            if v is None:
                lines.append(f"  {name:<9} skipped")
                continue
            ratio = f"  (ours {ours / v:.1f}x)" if name != "harmony" and ours else ""
            lines.append(f"  {name:<9} {v:>10,.0f} items/s{ratio}")
    lines += ["  (harmony = the numpy path that `harmony featurize` writes into shards; with one PyG Data object "
              f"per item: {result.get('harmony_data_objects')})",
              f"wall-clock items/s: {result['wall_items_per_s']}", f"failed items: {result['failed']}"]
    if result.get("errors"):
        lines.append(f"skipped: {result['errors']}")
    return "\n".join(lines)
