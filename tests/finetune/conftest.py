"""Tiny in-memory molecule datasets for fine-tuning tests (real featurizer, no files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

SMILES16 = [
    "CCO", "CCCO", "CCCCO", "c1ccccc1", "Cc1ccccc1", "CC(=O)O", "CCN", "CCCN", "c1ccncc1", "OCCO",
    "CC(C)O", "CCOCC", "c1ccc(O)cc1", "CC(=O)N", "CCCCCC", "C1CCCCC1",
]


class TinyDataset:
    """Quacks like ``harmony_mol.data.store.GraphDataset`` (spec, inputs, row_ids, target_names, tensors)."""

    def __init__(self, smiles: list[str], y: np.ndarray, target_names: list[str], preset: str = "harmony") -> None:
        from featurizers.batch import featurize_chunk
        from featurizers.items import RawItem
        from featurizers.molecule import molecule_spec

        self.spec = molecule_spec(preset)
        ys = np.asarray(y, dtype=np.float32).reshape(len(smiles), -1)
        graphs = featurize_chunk([RawItem(i, str(i), s, tuple(ys[i])) for i, s in enumerate(smiles)], self.spec,
                                 n_targets=ys.shape[1])
        if graphs.errors:
            raise ValueError(f"test SMILES failed: {graphs.errors}")
        self._t = graphs.tensors()
        self.inputs = list(smiles)
        self.target_names = list(target_names)
        self.row_ids = list(range(len(smiles)))
        self.path = Path("<memory>")

    def __len__(self) -> int:
        return len(self.inputs)

    def tensors(self) -> dict[str, torch.Tensor]:
        return self._t


def heavy_atoms(smiles: list[str]) -> np.ndarray:
    from rdkit import Chem

    return np.array([Chem.MolFromSmiles(s).GetNumHeavyAtoms() for s in smiles], dtype=np.float64)


@pytest.fixture()
def tiny_regression() -> TinyDataset:
    y = np.stack([heavy_atoms(SMILES16), np.where(np.arange(16) % 3 == 0, np.nan, heavy_atoms(SMILES16) % 3)], 1)
    return TinyDataset(SMILES16, y, ["n_heavy", "mod3"])


@pytest.fixture()
def tiny_classification() -> TinyDataset:
    n = heavy_atoms(SMILES16)
    y = np.stack([(n > 4).astype(float), np.where(np.arange(16) % 4 == 0, np.nan, (n % 2 == 0).astype(float))], 1)
    return TinyDataset(SMILES16, y, ["big", "even"])


TINY_ENCODER = {"hidden_dim": 32, "wgcn_hidden": 32, "mlp_hidden": 32, "heads": 2, "edge_dim": 8, "gate_hidden": 8}
