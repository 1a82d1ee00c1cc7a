"""Torch-free cache check for ``harmony featurize``.

The *request key* hashes the inputs, every option the featurizer spec is derived from and the format
versions, so it changes exactly when :func:`harmony_mol.data.build.cache_key` (which needs RDKit, PyG and
torch) can, yet needs only the standard library. ``manifest.json`` stores it; the CLI checks it before
importing anything heavy, so a cache hit costs a file hash and a JSON read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from featurizers.schema import FEATURIZER_VERSION
from harmony_mol.data.config import MANIFEST, STORE_FORMAT_VERSION, FeaturizeConfig
from harmony_mol.utils.io import sha256_file, sha256_text

#: Per-input fields that change what is read from an input.
INPUT_FIELDS = ("sha256", "smiles_column", "cif_column", "id_column", "target_columns")


def request_key(cfg: FeaturizeConfig, kind: str, input_records: list[dict[str, Any]]) -> str:
    """Hash of everything that decides a dataset's content (see the module docstring)."""
    blob = {
        "inputs": [{k: rec.get(k) for k in INPUT_FIELDS} for rec in input_records],
        "kind": kind, "preset": cfg.preset, "max_atoms": cfg.max_atoms, "dedupe": cfg.dedupe,
        "crystal": [cfg.cutoff, cfg.max_neighbors, cfg.n_gaussians, cfg.max_volume_per_atom] if kind == "crystal"
        else None,
        "featurizer_version": FEATURIZER_VERSION, "store_format": STORE_FORMAT_VERSION,
    }
    return sha256_text(json.dumps(blob, sort_keys=True, default=str))[:24]


def read_manifest(out: str | Path) -> dict[str, Any] | None:
    """The parsed ``manifest.json`` of dataset directory ``out``; ``None`` when missing or unreadable."""
    try:
        return json.loads((Path(out) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def cached_manifest(cfg: FeaturizeConfig) -> dict[str, Any] | None:
    """The manifest at ``cfg.output`` if it was built from exactly this request, else ``None``.

    Never raises for a missing or unreadable manifest (that is simply a miss); a bad input path
    raises as it would in :func:`build_dataset`.
    """
    manifest = None if cfg.output is None or cfg.force else read_manifest(cfg.output)
    if manifest is None or "request_key" not in manifest:
        return None
    from harmony_mol.data.inputs import plan_inputs

    plans, kind = plan_inputs(cfg)
    records = [{"sha256": sha256_file(p.path), "smiles_column": p.smiles_column, "cif_column": p.cif_column,
                "id_column": p.id_column,
                "target_columns": None if p.target_columns is None else list(p.target_columns)} for p in plans]
    return manifest if manifest["request_key"] == request_key(cfg, kind, records) else None
