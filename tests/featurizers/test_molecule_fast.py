"""Fast molecule path (sanitize-once parse + bulk features) == plain reference, both presets, bit for bit.

The reference is ``Chem.MolFromSmiles`` (RDKit's full parse, stereo perception included) followed by
the per-atom :func:`featurizers.molecule._features_reference`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem

from featurizers import molecule as M
from featurizers.errors import FeaturizationError
from featurizers.molecule import _features_reference, featurize_smiles, featurize_smiles_np, molecule_spec

BUNDLED = Path(__file__).resolve().parents[2] / "data" / "molecules"

TRICKY = [
    # charges, zwitterions, RDKit clean-up to charges
    "C[N+](C)(C)C.[Cl-]", "CC(=O)[O-]", "[O-][N+](=O)c1ccccc1", "CN(=O)=O", "CN=[N+]=[N-]", "OCl(=O)(=O)=O",
    "[C-]#[O+]", "C[S+](C)C", "[OH-]", "[BH4-]", "[NH2-]", "[Gd+3]",
    # stereo (full parse) next to look-alikes without it (fast parse)
    "C[C@H](N)C(=O)O", "N[C@@H](Cc1ccccc1)C(=O)O", "C[C@@]1(O)CCCC1", "[C@H](F)(Cl)Br", "C[C@H](C)C",
    "F/C=C/F", "C/C=C\\C", "C/C=C/C=C/C", "FC=CF",
    # aromatic N-H, heteroaromatics, Kekule input, aromatic carbonyl
    "c1cc[nH]c1", "[nH]1cccc1", "C1=CNC=C1", "c1ccc2c(c1)[nH]c1ccccc12", "O=c1cccc[nH]1",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "C1=CC=CC=C1", "[se]1cccc1", "c1ccoc1", "c1ccsc1",
    # isotopes (heavy atoms kept, isotopic H atoms -> reference path)
    "[13CH3]C", "[2H]C([2H])([2H])O", "[H]C#N", "O[H]",
    # radicals, carbenes, bare atoms
    "[CH3]", "[CH2]C", "[O]", "[C]", "[CH2-]C",
    # single atoms and 2-atom molecules
    "C", "O", "[Cu]", "[He]", "[SiH4]", "[NH4+]", "[CH4]", "C=C", "C#N", "N#N", "CC", "[Na+].[Cl-]",
    # disconnected salts, metals, dative bonds (reference path)
    "CC[O-].[Na+]", "[Fe+2].[Cl-].[Cl-]", "[Pt](Cl)(Cl)(N)N", "N->[Pt](<-N)(Cl)Cl", "C->[Fe]",
    # sp / allenes / hypervalent / unusual H counts
    "C#CC=C=C", "O=C=O", "FS(F)(F)(F)(F)F", "FP(F)(F)(F)F", "[SH6]", "CS(C)=O", "CP(C)(C)=O",
    # rings: small, large, fused, bridged, spiro, cage, biaryl link bonds
    "C1CC1", "C=1CC=1", "C1CC1C1CC1", "C1CCCCCCCCC1", "C1CCCCCCCCCCCCCCCCCCC1", "C1CC2CCC1C2", "C1CC2(C1)CC2",
    "C12C3C4C1C5C2C3C45", "c1ccc(-c2ccccc2)cc1", "c1ccc2cc3ccccc3cc2c1", "C1=CC2=CC=CC2=C1",
    # dummy atom, CXSMILES block, a name after the SMILES
    "*CC", "CC(=O)O |$;;;$|",  # "CCO ethanol" is rejected now (whitespace, issue 14): see test_bad_text.py
    "CC(=O)Oc1ccccc1C(=O)O", "OS(=O)(=O)c1ccccc1", "B(O)(O)c1ccccc1", "CC(C)(C)[Si](C)(C)OC",
]


def _bundled_smiles() -> list[str]:
    out = []
    for path in sorted(BUNDLED.glob("*.csv")):
        with open(path, newline="") as fh:
            out += [row["smiles"] for row in csv.DictReader(fh)]
    return out


def _reference(smiles: str, preset: str) -> dict[str, np.ndarray] | str:
    """Full RDKit parse + per-atom features, or the error reason featurize_smiles_np should give."""
    smi = smiles.strip()
    if not smi:
        return "empty SMILES"
    mol = Chem.MolFromSmiles(smi)
    if mol is None:
        return M._diagnose(smi)
    n = mol.GetNumHeavyAtoms()
    if n == 0:
        return "no heavy atoms"
    if n > 200:
        return f"{n} heavy atoms > limit 200"
    return _features_reference(mol, preset == "hu")


def _assert_same(smiles: str, preset: str) -> bool:
    """Fast path vs reference; returns whether the SMILES featurized (False: both rejected it)."""
    ref = _reference(smiles, preset)
    try:
        got = featurize_smiles_np(smiles, molecule_spec(preset))
    except FeaturizationError as exc:
        assert exc.reason == ref, smiles
        return False
    assert not isinstance(ref, str), f"{smiles!r}: reference rejects it ({ref}), fast path does not"
    assert got.keys() == ref.keys()
    for key, want in ref.items():
        assert got[key].dtype == want.dtype and got[key].shape == want.shape, (smiles, key)
        np.testing.assert_array_equal(got[key], want, err_msg=f"{smiles!r} {preset} {key}")
    return True


@pytest.mark.parametrize("preset", ["harmony", "hu"])
def test_tricky_molecules_match_reference(preset: str) -> None:
    assert sum(_assert_same(s, preset) for s in TRICKY) == len(TRICKY)


@pytest.mark.parametrize("preset", ["harmony", "hu"])
def test_bundled_molecules_match_reference(preset: str) -> None:
    smiles = _bundled_smiles()
    ok = sum(_assert_same(s, preset) for s in smiles)
    assert len(smiles) > 1500 and ok > 0.95 * len(smiles)  # bad_examples.csv holds the rejects


@pytest.mark.parametrize(
    "smiles",
    ["C(C)(C)(C)(C)C", "c1cccc1", "c1ccnc1", "C1CC", "[Xx]", "CC(C)(C)(C)(C)C", "N(=O)(=O)(=O)C", "F[Cl](F)F",
     "C[C@H](C)(C)(C)C", "[H][H]", "   "],
)
def test_bad_inputs_same_reason_as_full_parse(smiles: str) -> None:
    for preset in ("harmony", "hu"):
        assert _assert_same(smiles, preset) is False


def test_large_molecule_grows_the_atom_template() -> None:
    smiles = "C1CC1" + "C" * 297 + "c1ccccc1"  # 306 heavy atoms, past the first cached block of 256
    spec = molecule_spec("harmony", max_atoms=400)
    got = featurize_smiles_np(smiles, spec)
    ref = _features_reference(Chem.MolFromSmiles(smiles), False)
    for key in ref:
        np.testing.assert_array_equal(got[key], ref[key])
    assert _assert_same("CCO", "harmony")  # a small molecule after it still gets a correct fresh block


def test_common_molecules_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("reference path used")

    monkeypatch.setattr(M, "_features_reference", boom)
    for preset in ("harmony", "hu"):
        for smi in ("CC(=O)Oc1ccccc1C(=O)O", "C[C@H](N)C(=O)O", "F/C=C/F", "C[N+](C)(C)C.[Cl-]", "C1CC1"):
            featurize_smiles_np(smi, molecule_spec(preset))
    with pytest.raises(AssertionError, match="reference path used"):  # explicit H atoms: reference
        featurize_smiles_np("[2H]C([2H])([2H])O", molecule_spec())


def test_stereo_smiles_take_the_full_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, bool]] = []
    real = Chem.MolFromSmiles

    def spy(smi: str, *args: object, **kwargs: object) -> Chem.Mol:
        calls.append((smi, bool(kwargs.get("sanitize", True))))
        return real(smi, *args, **kwargs)

    monkeypatch.setattr(M.Chem, "MolFromSmiles", spy)
    featurize_smiles_np("CC(=O)O", molecule_spec())
    featurize_smiles_np("C[C@H](N)C(=O)O", molecule_spec())
    featurize_smiles_np("F/C=C/F", molecule_spec())
    assert calls == [("CC(=O)O", False), ("C[C@H](N)C(=O)O", True), ("F/C=C/F", True)]


def test_data_object_shares_the_fast_core() -> None:
    spec = molecule_spec("harmony")
    arrays = featurize_smiles_np("c1ccccc1O", spec)
    d = featurize_smiles("c1ccccc1O", spec)
    assert d.x.tolist() == arrays["x"].tolist() and d.edge_attr.tolist() == arrays["edge_attr"].tolist()
