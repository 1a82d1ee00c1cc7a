"""Molecule featurizer: known molecules, both presets vs their spec, bad inputs, fast == reference path."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rdkit import Chem

from featurizers.errors import FeaturizationError
from featurizers.molecule import _features_reference, featurize_smiles, featurize_smiles_np, molecule_spec
from featurizers.schema import validate_record

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
TRICKY = [
    ASPIRIN,
    "C[C@H](N)C(=O)O",  # chirality
    "F/C=C/F",  # double-bond stereo
    "C[N+](C)(C)C.[Cl-]",  # charges, two fragments
    "CN(=O)=O",  # nitro cleaned up to charges by RDKit
    "C#CC=C=C",  # sp and allene
    "c1ccc2c(c1)[nH]c1ccccc12",  # fused aromatic rings, pyrrole NH
    "C1CC2CCC1C2",  # bridged bicycle
    "C1CCCCCCCCC1",  # ring larger than 8
    "[2H]C([2H])([2H])O",  # explicit isotopic H atoms kept -> reference path
    "C->[Fe]",  # dative bond -> reference path
    "[SH6]",  # hypervalent, unusual H count
    "OS(=O)(=O)c1ccccc1",
    "*CC",  # dummy atom
]


def test_aspirin_counts_and_flags() -> None:
    spec = molecule_spec("harmony")
    d = featurize_smiles(ASPIRIN, spec, y=[1.5, None], row_id=7)
    validate_record(d, spec)
    assert d.num_nodes == 13
    assert d.edge_index.size(1) == 26  # 13 bonds, both directions
    assert int(d.x[:, 6].sum()) == 6  # six aromatic atoms
    assert int((d.edge_attr[:, 0] == 3).sum()) == 12  # six aromatic bonds, both directions
    assert sorted(d.x[:, 0].tolist()).count(8) == 4 and sorted(d.x[:, 0].tolist()).count(6) == 9
    assert int(d.x[:, 7].gt(0).sum()) == 6  # ring atoms, bucket of size 6
    assert set(d.x[d.x[:, 7] > 0, 7].tolist()) == {4}
    assert d.y.shape == (1, 2) and d.y[0, 0].item() == 1.5 and math.isnan(d.y[0, 1].item())
    assert d.row_id.tolist() == [7]
    assert abs(float(d.x_feat[0, 0]) - 0.12011) < 1e-3  # carbon mass / 100
    # each directed edge has its reverse with identical features
    pairs = {(int(a), int(b)): tuple(f.tolist()) for a, b, f in zip(*d.edge_index, d.edge_attr)}
    assert all(pairs[(b, a)] == f for (a, b), f in pairs.items())


@pytest.mark.parametrize("preset", ["harmony", "hu"])
def test_presets_match_spec(preset: str) -> None:
    spec = molecule_spec(preset)
    for smi in TRICKY:
        validate_record(featurize_smiles(smi, spec), spec)
    if preset == "hu":
        assert spec.atom_cat_dims == (120, 4) and spec.bond_cat_dims == (6, 3) and spec.atom_float_dim == 0
        d = featurize_smiles("F/C=C/F", spec)
        assert d.x[:, 0].tolist() == [8, 5, 5, 8]  # Z - 1
        assert set(d.edge_attr[:, 1].tolist()) == {0, 1}  # ENDUPRIGHT on the directional bonds
    assert spec.key() == molecule_spec(preset).key() != molecule_spec(preset, max_atoms=50).key()


@pytest.mark.parametrize("preset", ["harmony", "hu"])
def test_fast_path_equals_reference(preset: str) -> None:
    spec = molecule_spec(preset)
    for smi in TRICKY:
        fast = featurize_smiles_np(smi, spec)
        ref = _features_reference(Chem.MolFromSmiles(smi), preset == "hu")
        for key in ref:
            np.testing.assert_array_equal(fast[key], ref[key], err_msg=f"{smi} {key}")


def test_stereo_charge_chirality_columns() -> None:
    spec = molecule_spec("harmony")
    d = featurize_smiles("C[C@H](N)C(=O)O", spec)
    assert d.x[1, 3].item() in (1, 2) and d.x[0, 3].item() == 0
    d = featurize_smiles("CN(=O)=O", spec)
    assert sorted(d.x[:, 2].tolist()) == [2, 3, 3, 4]  # N+ and O- after RDKit clean-up
    d = featurize_smiles("F/C=C/F", spec)
    assert 3 in d.edge_attr[:, 3].tolist()  # STEREOE on the double bond


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [
        ("", "empty SMILES"),
        ("   ", "empty SMILES"),
        ("C1CC", "unclosed ring"),
        ("[Xx]", "syntax error"),
        ("C(C)(C)(C)(C)C", "Explicit valence for atom # 0 C, 5, is greater than permitted"),
        ("c1cccc1", "kekulize"),
        ("C" * 201, "201 heavy atoms > limit 200"),
        ("[H][H]", "no heavy atoms"),
    ],
)
def test_bad_inputs_have_reasons(smiles: str, reason: str) -> None:
    with pytest.raises(FeaturizationError) as info:
        featurize_smiles(smiles, molecule_spec(), row_id=4)
    assert reason in info.value.reason
    assert info.value.row_id == 4


def test_bad_spec_and_preset() -> None:
    with pytest.raises(ValueError):
        molecule_spec("nope")
    with pytest.raises(ValueError):
        molecule_spec(max_atoms=0)
