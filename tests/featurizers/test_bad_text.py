"""Inputs a parser would read as something else are rejected with a reason (issue 14, items 3-5, 7, 8)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from featurizers import FeaturizationError
from featurizers.crystal import crystal_spec
from featurizers.dispatch import featurize_item_np
from featurizers.items import RawItem, parse_target
from featurizers.molecule import featurize_smiles_np, molecule_spec
from featurizers.readers import read_items
from featurizers.structures import CrystalText

SPEC = molecule_spec()
CSPEC = crystal_spec()

CIF = """data_x
_cell_length_a {a}
_cell_length_b 4.0
_cell_length_c 4.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
_publ_author_name 'Müller, J.'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Na1 {sym} 0 0 0 {occ}
Cl1 Cl {x} 0.5 0.5 1
"""

POSCAR = "rock salt\n1.0\n4 0 0\n0 4 0\n0 0 4\n{sym} Cl\n1 {n}\ndirect\n0 0 0\n{x} 0.5 0.5\n"


def _cif(**kw: str) -> str:
    return CIF.format(**{"a": "4.0", "sym": "Na", "occ": "1", "x": "0.5", **kw})


def _reason_cif(text: str, fmt: str = "cif") -> str | None:
    try:
        featurize_item_np(RawItem(0, "x", CrystalText(fmt, text, "x"), ()), CSPEC)
    except FeaturizationError as exc:
        return exc.reason
    return None


@pytest.mark.parametrize("smiles, needle", [
    ("ОССO", "non-ASCII"),  # Cyrillic O and S: RDKit reads it as O
    ("CC\tO", "tab"),
    ("CC\nO", "line feed"),
    ("CC O", "space"),
    ("CCO ethanol", "space"),  # a name belongs in a .smi file, where the reader splits it off
    ("CC\x07O", "control character U+0007"),
    ("CC\udcffO", "invalid UTF-8 byte 0xFF"),
    ("C\u00a0C", "NO-BREAK SPACE"),
])
def test_smiles_with_whitespace_control_or_non_ascii_is_rejected(smiles: str, needle: str) -> None:
    with pytest.raises(FeaturizationError) as err:
        featurize_smiles_np(smiles, SPEC, row_id=3)
    assert needle in err.value.reason and err.value.row_id == 3


def test_cxsmiles_block_and_outer_whitespace_still_read() -> None:
    assert featurize_smiles_np("C1CC1 |$R;;$|", SPEC)["x"].shape[0] == 3
    assert featurize_smiles_np("  CCO ", SPEC)["x"].shape[0] == 3


@pytest.mark.parametrize("kw, needle", [
    ({"sym": "Сu"}, "CYRILLIC"),
    ({"sym": "??"}, "names no element"),
    ({"sym": "1"}, "names no element"),
    ({"sym": "Xx"}, "names no element"),
    ({"sym": "Q"}, "names no element"),
    ({"occ": "0"}, "occupancy 0"),
    ({"a": "-4.0"}, "not positive"),
    ({"x": "1e308"}, "out of range"),
    ({"x": "nan"}, "non-finite"),
])
def test_cif_values_pymatgen_would_change_are_rejected(kw: dict[str, str], needle: str) -> None:
    assert _reason_cif(_cif()) is None  # the template itself is fine (non-ASCII author name included)
    reason = _reason_cif(_cif(**kw))
    assert reason is not None and needle in reason


@pytest.mark.parametrize("kw, needle", [
    ({"sym": "Сu"}, "CYRILLIC"),
    ({"sym": "Xx"}, "not a chemical element"),
    ({"x": "1e308"}, "out of range"),
])
def test_poscar_values_pymatgen_would_change_are_rejected(kw: dict[str, str], needle: str) -> None:
    assert _reason_cif(POSCAR.format(sym="Na", n=1, x="0.5"), "poscar") is None
    reason = _reason_cif(POSCAR.format(**{"sym": "Na", "n": 1, "x": "0.5", **kw}), "poscar")
    assert reason is not None and needle in reason


def test_dummy_species_rejection_does_not_depend_on_hash_seed() -> None:
    from pymatgen.core import DummySpecies, Lattice, Structure

    s = Structure(Lattice.cubic(4.0), [DummySpecies("X"), "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(FeaturizationError, match="not a chemical element"):
        featurize_item_np(RawItem(0, "x", s, ()), CSPEC)


@pytest.mark.parametrize("value", ["inf", "-inf", "1e999", "Infinity", float("inf")])
def test_non_finite_labels_are_rejected(value: object) -> None:
    with pytest.raises(FeaturizationError, match="non-finite"):
        parse_target(value, "y", 0)
    assert math.isnan(parse_target("nan", "y", 0)) and parse_target("1e3", "y", 0) == 1000.0


def test_one_undecodable_byte_flags_its_row_only(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b"smiles,y\nCCO,1\nC\xffC,2\nCCN,3\n")
    _, items = read_items(path, target_columns=["y"])
    items = list(items)
    assert len(items) == 3
    assert isinstance(items[1].payload, FeaturizationError)
    assert "invalid UTF-8 byte 0xFF" in items[1].payload.reason and "'smiles'" in items[1].payload.reason
    assert items[0].payload == "CCO" and items[2].payload == "CCN" and items[2].targets == (3.0,)


def test_huge_inputs_are_rejected_before_parsing() -> None:
    t0 = time.perf_counter()
    with pytest.raises(FeaturizationError, match="characters > limit"):
        featurize_smiles_np("c1ccccc1" * 8333, SPEC)  # 66 kB: RDKit alone took 118 s
    with pytest.raises(FeaturizationError, match="heavy atoms > limit 200"):
        featurize_smiles_np("c1ccccc1" * 40, SPEC)
    with pytest.raises(FeaturizationError, match="characters > limit"):
        featurize_smiles_np("C" * 2_000_000, SPEC)
    rows = "\n".join(f"Na{i} Na {i / 11000:.5f} 0.1 0.2 1" for i in range(10_648))
    big = _cif().split("Na1 Na")[0] + rows + "\n"
    assert "not parsed" in (_reason_cif(big) or "")
    assert "not parsed" in (_reason_cif(POSCAR.format(sym="Na", n=10_647, x="0.5"), "poscar") or "")
    assert time.perf_counter() - t0 < 2.0
