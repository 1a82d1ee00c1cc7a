"""Readers on every input format, with bad items in the middle keeping their row numbers."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter
from pymatgen.io.vasp import Poscar

from featurizers import FeaturizationError, featurize_item
from featurizers.crystal import crystal_spec
from featurizers.molecule import molecule_spec
from featurizers.readers import detect_kind, read_items


def _outcomes(items, spec) -> list[tuple[int, str, object]]:
    out = []
    for item in items:
        try:
            d = featurize_item(item, spec)
            out.append((item.row_id, item.item_id, d))
        except FeaturizationError as exc:
            assert exc.row_id == item.row_id
            out.append((item.row_id, item.item_id, exc.reason))
    return out


def test_csv_molecules_bad_rows_keep_labels(tmp_path: Path) -> None:
    path = tmp_path / "mols.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("name,SMILES,y1,y2\na,CCO,1.0,2\nb,C1CC,2.0,\nc,CCN,abc,3\nd,,4,4\ne,c1ccccc1,5,NA\n")
    names, items = read_items(path, smiles_column="SMILES", target_columns=["y1", "y2"], id_column="name")
    assert names == ["y1", "y2"]
    res = _outcomes(items, molecule_spec())
    assert [r[0] for r in res] == [0, 1, 2, 3, 4]
    assert "unclosed ring" in res[1][2]
    assert "non-numeric target 'abc'" in res[2][2]
    assert res[3][2] == "empty SMILES"
    good = {r[1]: r[2] for r in res if not isinstance(r[2], str)}
    assert set(good) == {"a", "e"}
    assert good["a"].y.tolist() == [[1.0, 2.0]]
    assert good["e"].y[0, 0].item() == 5.0 and math.isnan(good["e"].y[0, 1].item())
    assert good["e"].row_id.item() == 4


def test_csv_unknown_column_raises(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("smiles,y\nCC,1\n")
    with pytest.raises(ValueError, match="no target column"):
        read_items(path, target_columns=["nope"])
    assert read_items(path)[0] == []  # smiles column auto-detected, no targets


def test_smi_file(tmp_path: Path) -> None:
    path = tmp_path / "m.smi"
    path.write_text("CCO ethanol\n\nC1CC broken ring\nc1ccccc1\n")
    _, items = read_items(path)
    res = _outcomes(items, molecule_spec("hu"))
    assert [(r[0], r[1]) for r in res] == [(0, "ethanol"), (1, "2"), (2, "broken ring"), (3, "4")]
    assert res[1][2] == "empty SMILES" and "unclosed ring" in res[2][2]


def test_sdf_with_bad_record(tmp_path: Path) -> None:
    from rdkit import Chem

    good = Chem.MolFromSmiles("CCO")
    good.SetProp("_Name", "ethanol")
    good.SetProp("logS", "0.5")
    block = Chem.MolToMolBlock(good)
    bad = Chem.MolToMolBlock(Chem.MolFromSmiles("CC")).replace(
        "  0  0  0  0  0  0  0  0  0  0  0  0", "  0  0  0  0  0 15  0  0  0  0  0  0", 1)
    bad_block = bad.replace("C   0", "Xx  0", 1)
    path = tmp_path / "m.sdf"
    path.write_text(
        Chem.MolToMolBlock(good) + "> <logS>\n0.5\n\n$$$$\n" + bad_block + "$$$$\n" + block + "> <logS>\nx\n\n$$$$\n"
    )
    names, items = read_items(path, target_columns=["logS"])
    res = _outcomes(items, molecule_spec())
    assert [r[0] for r in res] == [0, 1, 2]
    assert res[0][1] == "ethanol" and res[0][2].y.tolist() == [[0.5]]
    assert res[1][2].startswith("SDF record")
    assert "non-numeric target" in res[2][2]


def _nacl() -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_single_crystal_files(tmp_path: Path) -> None:
    spec = crystal_spec()
    s = _nacl()
    CifWriter(s).write_file(tmp_path / "nacl.cif")
    Poscar(s).write_file(tmp_path / "POSCAR")
    s.to(filename=str(tmp_path / "nacl.vasp"), fmt="poscar")
    for name in ("nacl.cif", "POSCAR", "nacl.vasp"):
        assert detect_kind(tmp_path / name) == "crystal"
        _, items = read_items(tmp_path / name)
        (res,) = _outcomes(items, spec)
        assert res[2].num_nodes == 8, name


def test_extxyz_frames_with_targets(tmp_path: Path) -> None:
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor

    frames = []
    for a, e in [(5.64, -1.0), (5.7, -0.9)]:
        nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
        atoms = AseAtomsAdaptor.get_atoms(nacl)
        atoms.info["energy"] = e
        frames.append(atoms)
    write(tmp_path / "t.extxyz", frames, format="extxyz")
    names, items = read_items(tmp_path / "t.extxyz", kind="crystal", target_columns=["energy"])
    res = _outcomes(items, crystal_spec())
    assert [r[2].y.item() for r in res] == [-1.0, pytest.approx(-0.9)]


def test_folder_with_id_prop_and_partial_occupancy(tmp_path: Path) -> None:
    CifWriter(_nacl()).write_file(tmp_path / "good.cif")
    disordered = Structure(Lattice.cubic(3.0), [{"Fe": 0.5, "Co": 0.5}], [[0, 0, 0]])
    CifWriter(disordered).write_file(tmp_path / "alloy.cif")
    (tmp_path / "broken.cif").write_text("data_x\n_cell_length_a 3\nloop_\n_atom_site_label\n")
    (tmp_path / "id_prop.csv").write_text("good,1.5\nalloy,2.5\nmissing,3.5\nbroken,4.5\ngood.cif,oops\n")
    names, items = read_items(tmp_path)
    assert names == ["target"]
    res = _outcomes(items, crystal_spec())
    assert [r[0] for r in res] == [0, 1, 2, 3, 4]
    assert res[0][2].y.item() == 1.5
    assert "disordered site(s)" in res[1][2]
    assert "no structure file" in res[2][2]
    assert isinstance(res[3][2], str) and res[3][2]
    assert "non-numeric target" in res[4][2]


def test_csv_with_cif_column_and_json_lines(tmp_path: Path) -> None:
    import csv

    cif = str(CifWriter(_nacl()))
    path = tmp_path / "c.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["material_id", "cif", "e"])
        w.writerows([["m1", cif, "1"], ["m2", "garbage", "2"], ["m3", cif, ""]])
    assert detect_kind(path) == "crystal"
    names, items = read_items(path, target_columns=["e"])
    res = _outcomes(items, crystal_spec())
    assert [r[1] for r in res] == ["m1", "m2", "m3"]
    assert res[0][2].num_nodes == 8 and isinstance(res[1][2], str) and math.isnan(res[2][2].y.item())

    jpath = tmp_path / "s.json.gz"
    with gzip.open(jpath, "wt") as fh:
        fh.write(json.dumps({"structure": _nacl().as_dict(), "e_form": 0.1}) + "\n")
        fh.write("{not json\n")
        fh.write(json.dumps({"structure": {"bad": 1}, "e_form": 0.3}) + "\n")
    names, items = read_items(jpath)
    assert names == ["e_form"]
    res = _outcomes(items, crystal_spec())
    assert res[0][2].y.item() == pytest.approx(0.1)
    assert "invalid JSON" in res[1][2] and "invalid structure dict" in res[2][2]
