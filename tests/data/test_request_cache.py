"""The CLI's torch-free cache check agrees with the full cache key and imports no torch."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from harmony_mol.data.build import build_dataset
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.data.request import cached_manifest


def _csv(path: Path, rows: list[tuple[str, float]]) -> Path:
    path.write_text("smiles,y\n" + "".join(f"{s},{v}\n" for s, v in rows))
    return path


def test_request_key_hits_only_for_the_same_request(tmp_path: Path) -> None:
    src = _csv(tmp_path / "in.csv", [("CCO", 1.0), ("c1ccccc1", 2.0), ("CC(=O)O", 3.0)])
    cfg = FeaturizeConfig(inputs=(str(src),), output=tmp_path / "ds", target_columns=("y",))
    assert cached_manifest(cfg) is None  # nothing built yet
    info = build_dataset(cfg)
    hit = cached_manifest(cfg)
    assert hit is not None and hit["cache_key"] == info.key and hit["counts"]["graphs"] == 3
    assert cached_manifest(replace(cfg, preset="hu")) is None
    assert cached_manifest(replace(cfg, max_atoms=50)) is None
    assert cached_manifest(replace(cfg, target_columns=())) is None
    assert cached_manifest(replace(cfg, force=True)) is None
    _csv(src, [("CCO", 1.0), ("c1ccccc1", 2.5), ("CC(=O)O", 3.0)])  # same size, other bytes
    assert cached_manifest(cfg) is None


def test_cache_check_imports_no_torch(tmp_path: Path) -> None:
    src = _csv(tmp_path / "in.csv", [("CCO", 1.0)])
    cfg = FeaturizeConfig(inputs=(str(src),), output=tmp_path / "ds", target_columns=("y",))
    build_dataset(cfg)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from harmony_mol.data.config import FeaturizeConfig\n"
        "from harmony_mol.data.request import cached_manifest\n"
        f"cfg = FeaturizeConfig(inputs=({str(src)!r},), output=Path({str(tmp_path / 'ds')!r}), target_columns=('y',))\n"
        "assert cached_manifest(cfg) is not None\n"
        "heavy = [m for m in ('torch', 'rdkit', 'pymatgen', 'torch_geometric') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
