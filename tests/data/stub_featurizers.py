"""Stand-in for H1's featurizer entry points, installed only while they are missing from the tree.

Once ``featurizers.molecule`` / ``featurizers.readers`` exist, :func:`ensure_featurizers` does nothing
and the data tests run against the real featurizers.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import torch

import featurizers
from featurizers.errors import FeaturizationError
from featurizers.schema import FeaturizerSpec


@dataclass(frozen=True)
class RawItem:
    row_id: int
    item_id: str
    payload: object
    targets: tuple[float, ...]


def molecule_spec(preset: str = "harmony", max_atoms: int = 200) -> FeaturizerSpec:
    dims = (119, 9, 11, 12, 9, 5, 8, 2, 2) if preset == "harmony" else (120, 4)
    return FeaturizerSpec(kind="molecule", preset=preset, atom_cat_dims=dims, atom_float_dim=0,
                          bond_cat_dims=(5, 6, 2), edge_float_dim=0, options={"max_atoms": max_atoms})


def featurize_smiles(smiles, spec, y=None, row_id=0):
    from rdkit import Chem, RDLogger
    from torch_geometric.utils import from_smiles

    RDLogger.DisableLog("rdApp.*")
    if not smiles:
        raise FeaturizationError("empty SMILES", row_id, smiles)
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise FeaturizationError("RDKit could not parse", row_id, smiles)
    if mol.GetNumAtoms() > spec.options["max_atoms"]:
        raise FeaturizationError(f"too many atoms ({mol.GetNumAtoms()} > {spec.options['max_atoms']})", row_id, smiles)
    d = from_smiles(smiles)
    x = d.x[:, : len(spec.atom_cat_dims)].long().clamp(min=0)
    for c, card in enumerate(spec.atom_cat_dims):
        x[:, c] = x[:, c].clamp(max=card - 1)
    d.x = x
    d.x_feat = torch.zeros(x.size(0), 0)
    d.edge_attr = d.edge_attr.long()
    d.edge_feat = torch.zeros(d.edge_index.size(1), 0)
    d.y = torch.tensor([list(y or [])], dtype=torch.float32).reshape(1, -1)
    d.row_id = torch.tensor([row_id])
    del d.smiles
    return d


def read_items(path, kind, smiles_column=None, target_columns=None, id_column=None):
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", newline="") as fh:
        header = next(csv.reader([fh.readline()]))
    smi = smiles_column or next(h for h in header if h.lower() == "smiles")
    targets = list(target_columns or [])

    def gen():
        with opener(path, "rt", newline="") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                ys = tuple(float(row[t]) if row[t] not in ("", None) else float("nan") for t in targets)
                yield RawItem(i, row.get(id_column, str(i)) if id_column else str(i), row[smi] or "", ys)

    return targets, gen()


def featurize_item(item, spec):
    from featurizers.molecule import featurize_smiles as real_or_stub

    return real_or_stub(item.payload, spec, item.targets, item.row_id)


#: Names of the entry points replaced by stand-ins in this session.
STUBBED: set[str] = set()


def ensure_featurizers() -> None:
    """Install the stand-ins for whichever H1 entry point does not exist yet."""
    if "featurizers.molecule" not in sys.modules and importlib.util.find_spec("featurizers.molecule") is None:
        m = types.ModuleType("featurizers.molecule")
        m.molecule_spec, m.featurize_smiles = molecule_spec, featurize_smiles
        sys.modules["featurizers.molecule"] = m
        STUBBED.add("featurizers.molecule")
    if "featurizers.readers" not in sys.modules and importlib.util.find_spec("featurizers.readers") is None:
        r = types.ModuleType("featurizers.readers")
        r.read_items, r.RawItem = read_items, RawItem
        sys.modules["featurizers.readers"] = r
        STUBBED.add("featurizers.readers")
    if not hasattr(featurizers, "featurize_item"):
        featurizers.featurize_item = featurize_item
        STUBBED.add("featurizers.featurize_item")
