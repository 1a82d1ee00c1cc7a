"""Seeded fuzz of featurize and predict on bad and odd input mixed with valid rows (issue 14, "Done when").

>= 10,000 bad or odd SMILES rows and >= 500 bad structures, every category of the issue (whitespace,
control and non-ASCII characters, invalid UTF-8, bare CR, huge inputs, non-finite and non-numeric
labels, crystal values pymatgen would silently change). For featurize and predict: zero crashes,
kept + rejected = input rows, valid rows keep their labels, output readable by pandas and the ``csv``
module with the same row count, no input column changed, every rejection under 1 s.
"""

from __future__ import annotations

import csv
import gzip
import random
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from featurizers import FeaturizationError
from featurizers.crystal import crystal_spec
from featurizers.dispatch import featurize_item_np
from featurizers.items import RawItem
from featurizers.molecule import featurize_smiles_np, molecule_spec
from featurizers.structures import CrystalText
from featurizers.text import printable
from harmony_mol.data.build import build_dataset
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.models.io import ModelBundle
from harmony_mol.predict.api import Predictor

VALID = ["CCO", "CCCO", "c1ccccc1", "Cc1ccccc1", "CC(=O)O", "CCN", "c1ccncc1", "OCCO", "CC(C)O", "CCOCC",
         "c1ccc(O)cc1", "CC(=O)N", "CCCCCC", "C1CCCCC1", "C[C@H](N)C(=O)O", "F/C=C/F", "[Na+].[Cl-]",
         "CC(=O)Oc1ccccc1C(=O)O", "C1CC1 |$R;;$|", "[2H]C([2H])([2H])O"]
TINY = {"hidden_dim": 16, "wgcn_hidden": 16, "mlp_hidden": 16, "heads": 2, "edge_dim": 8, "gate_hidden": 4}
#: characters RDKit reads as something else (or that break naive CSV readers)
ODD = [" ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x00", "\x07", "\x1b", "\u00a0", "\u200b", "\u2028",
       "О", "С", "Ν", "é", "🧪", "\ufeff", "\udcff", "\udc80"]


def _bad_smiles(rng: random.Random) -> tuple[str, str]:
    """One bad or odd SMILES and its category."""
    base = rng.choice(VALID[:14])
    cat = rng.choice(["odd_char", "odd_char", "garbage", "syntax", "valence", "empty", "huge", "bytes"])
    if cat == "odd_char":
        k = rng.randrange(len(base) + 1)
        return base[:k] + rng.choice(ODD) + base[k:], cat
    if cat == "garbage":
        return "".join(rng.choice("CNOcn()[]=#@+-123456789%/\\.*Xx{}|$&;:'\",") for _ in range(rng.randint(1, 30))), cat
    if cat == "syntax":
        return rng.choice(["C1CC", "c1cccc1", "C(C", "CC)", "[CH5", "C==C", "[Xx]", "C%", "1CC"]) + base, cat
    if cat == "valence":
        return rng.choice(["C(C)(C)(C)(C)C", "O(C)(C)C", "N(C)(C)(C)(C)C", "F(C)C"]), cat
    if cat == "empty":
        return rng.choice(["", " ", "\t", "  \t "]), cat
    if cat == "huge":
        return rng.choice(["c1ccccc1" * rng.randint(40, 8333), "C" * rng.randint(201, 4000),
                           "C" * 50_000, "[Cu]" * 300]), cat
    return base[:1] + rng.choice(["\udcff", "\udcfe\udc80", "\udcc3"]) + base[1:], cat


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8", errors="surrogateescape") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def _read_back(path: Path) -> tuple[pd.DataFrame, list[list[str]]]:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert len(df) == len(rows) - 1
    return df, rows


@pytest.fixture(scope="module")
def mol_bundle() -> ModelBundle:
    return _bundle(molecule_spec(), "y")


def _bundle(spec, target: str) -> ModelBundle:
    from harmony_mol.config import config_to_dict
    from harmony_mol.models.property_model import build_model
    from harmony_mol.models.registry import build_encoder, encoder_config_from_dict
    from harmony_mol.models.scaler import TargetScaler

    torch.manual_seed(0)
    ecfg = config_to_dict(encoder_config_from_dict(TINY))
    model = build_model(build_encoder(ecfg, spec.to_dict()), 1, "mean", {"hidden_dim": 8})
    member = ModelBundle.member_from_model(model, TargetScaler((0.0,), (1.0,)), 0, {}, {})
    return ModelBundle(encoder_config=ecfg, input_dims=spec.to_dict(), featurizer_spec=spec.to_dict(),
                       readout="mean", head_config={"hidden_dim": 8}, task_type="regression",
                       target_names=[target], members=[member])


def _check_dataset(out: Path, n_rows: int, valid: dict[int, float], must_reject: set[int]) -> None:
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    rej = pd.read_csv(out / "rejected.csv", dtype=str, keep_default_na=False)
    with open(out / "rejected.csv", newline="", encoding="utf-8") as fh:
        assert len(list(csv.reader(fh))) - 1 == len(rej)
    with gzip.open(out / "index.csv.gz", "rt", newline="", encoding="utf-8") as fh:
        kept = list(csv.DictReader(fh))
    assert manifest["counts"]["graphs"] + manifest["counts"]["rejected"] == n_rows == len(kept) + len(rej)
    kept_ids = {int(r["row_id"]) for r in kept}
    assert kept_ids.isdisjoint(int(r) for r in rej["row_id"])
    assert set(valid) <= kept_ids and not (must_reject & kept_ids)
    assert (rej["reason"] != "").all() and rej["input"].str.len().max() < 1100
    from harmony_mol.data.store import load_dataset

    ds = load_dataset(out)
    y = dict(zip(ds.row_ids, ds.tensors()["y"][:, 0].tolist()))
    assert all(y[r] == pytest.approx(v) for r, v in valid.items())


def test_fuzz_smiles_featurize_and_predict(tmp_path: Path, mol_bundle: ModelBundle) -> None:
    rng = random.Random(14)
    rows: list[list[str]] = []
    valid: dict[int, float] = {}
    must_reject: set[int] = set()
    n_bad = 0
    for i in range(12_400):
        note = rng.choice(["", "plain", "a,b", 'say "hi"', "cr\rinside", "lf\ninside", "crlf\r\n", "tab\t", "Ü"])
        if rng.random() < 0.17:
            smi, label = rng.choice(VALID), f"{i}.5"
            if rng.random() < 0.1:  # a valid molecule with a label that cannot be read
                label = rng.choice(["inf", "-inf", "1e999", "Infinity", "abc", "1,5", "\udcff"])
                must_reject.add(i)
            else:
                valid[i] = float(label)
        else:
            smi, cat = _bad_smiles(rng)
            label = str(rng.random())
            n_bad += 1
            core = smi.strip()  # outer whitespace is stripped (unambiguous); anything odd inside is not
            if cat in ("huge", "bytes") or (cat == "odd_char" and any(c in core for c in ODD)):
                must_reject.add(i)
        rows.append([f"m{i}", smi, label, note])
    assert n_bad >= 10_000
    src = tmp_path / "fuzz.csv"
    _write_csv(src, ["id", "smiles", "y", "note"], rows)

    # every rejection under 1 s (the featurizer core that featurize and predict share)
    spec, worst = molecule_spec(), 0.0
    for _, smi, _, _ in rows:
        t0 = time.perf_counter()
        try:
            featurize_smiles_np(smi, spec)
        except FeaturizationError:
            worst = max(worst, time.perf_counter() - t0)
    assert worst < 1.0

    out = tmp_path / "ds"
    build_dataset(FeaturizeConfig(inputs=(str(src),), output=out, target_columns=("y",), max_reject_fraction=1.0,
                                  progress=False, chunk_size=2048))
    _check_dataset(out, len(rows), valid, must_reject)

    pred_out = tmp_path / "pred.csv"
    st = Predictor(mol_bundle, batch_size=256).predict_file(src, pred_out, chunk_size=3000, progress=False)
    assert st.n_rows == len(rows)
    df, back = _read_back(pred_out)
    assert len(df) == len(rows) and list(df.columns) == ["id", "smiles", "y", "note", "y_pred", "error"]
    for col, k in (("id", 0), ("smiles", 1), ("y", 2), ("note", 3)):
        assert df[col].tolist() == [printable(r[k]) for r in rows]  # bad bytes shown as U+FFFD, else unchanged
    for i in valid:
        assert df["error"].iloc[i] == "" and df["y_pred"].iloc[i] != ""
    for i in must_reject - {i for i in must_reject if rows[i][0:2] and rows[i][1] in VALID}:
        assert df["error"].iloc[i] != ""
    assert ((df["error"] == "") == (df["y_pred"] != "")).all()


# --------------------------------------------------------------------------------------------- crystals
def _valid_cifs() -> list[str]:
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.cif import CifWriter

    structs = [Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
               Structure(Lattice.cubic(4.11), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
               Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
               Structure(Lattice.hexagonal(3.2, 5.2), ["Zn", "O"], [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.38]])]
    return [str(CifWriter(s)) for s in structs]


def _bad_cif(rng: random.Random, cif: str) -> str:
    lines = cif.splitlines()
    site = next(k for k, ln in enumerate(lines) if ln.strip().startswith(("Na", "Cs", "Fe", "Zn")) and
                len(ln.split()) >= 6)
    parts = lines[site].split()
    cat = rng.randrange(12)
    if cat == 0:
        parts[0] = rng.choice(["Сu", "??", "1", "Xx", "Q", "Ña"])
        parts[1] = parts[0]
    elif cat == 1:
        parts[-1] = rng.choice(["0", "-1", "0.0", "nan", "2"])
    elif cat == 2:
        parts[3] = rng.choice(["1e308", "-1e308", "inf", "nan", "abc", "1e5"])
    elif cat == 3:
        k = next(k for k, ln in enumerate(lines) if ln.startswith("_cell_length_a"))
        lines[k] = f"_cell_length_a {rng.choice(['-4.0', '0', 'inf', 'x', '-1e-3'])}"
    elif cat == 4:
        return cif[: rng.randrange(len(cif))]
    elif cat == 5:
        return "".join(rng.choice("data_loop_ _atom 0.5 Na\n'\"#;") for _ in range(rng.randint(0, 300)))
    elif cat == 6:
        return cif.replace("\n", rng.choice(["\r", "\x00", "\u2028"]), rng.randint(1, 5))
    elif cat == 7:
        return cif[:50] + "\udcff" + cif[50:]
    elif cat == 8:
        head = cif[: cif.index("_atom_site_occupancy")] + "_atom_site_occupancy\n"
        return head + "".join(f"Na{i} Na Na{i} {i / 11000:.5f} 0.1 0.2 1\n" for i in range(rng.choice([600, 10_648])))
    elif cat == 9:
        parts[1] = "Ｎａ"  # full-width letters
    elif cat == 10:
        lines[site] = lines[site] + " extra"
    else:
        return ""
    lines[site] = " ".join(parts) if cat not in (10,) else lines[site]
    return "\n".join(lines)


def test_fuzz_structures_featurize_and_predict(tmp_path: Path) -> None:
    rng = random.Random(1066)
    good = _valid_cifs()
    rows, valid = [], {}
    n_bad = 0
    for i in range(640):
        if i % 6 == 0:
            rows.append([f"s{i}", rng.choice(good), f"{i}.25"])
            valid[i] = i + 0.25
        else:
            rows.append([f"s{i}", _bad_cif(rng, rng.choice(good)), rng.choice(["1.0", "inf", "", "x"])])
            n_bad += 1
    assert n_bad >= 500
    src = tmp_path / "cifs.csv"
    _write_csv(src, ["id", "cif", "heat_ref"], rows)

    spec, worst = crystal_spec(cutoff=6.0, max_neighbors=8), 0.0
    for i, (_, text, _) in enumerate(rows):
        t0 = time.process_time()  # CPU time: other processes on a loaded machine do not count
        try:
            featurize_item_np(RawItem(i, str(i), CrystalText("cif", text, str(i)), ()), spec)
        except FeaturizationError:
            worst = max(worst, time.process_time() - t0)
    assert worst < 1.0

    out = tmp_path / "ds"
    build_dataset(FeaturizeConfig(inputs=(str(src),), output=out, kind="crystal", target_columns=("heat_ref",),
                                  cutoff=6.0, max_neighbors=8, max_reject_fraction=1.0, progress=False))
    _check_dataset(out, len(rows), valid, set())

    pred_out = tmp_path / "pred.csv"
    st = Predictor(_bundle(spec, "heat_ref")).predict_file(src, pred_out, chunk_size=100, progress=False)
    assert st.n_rows == len(rows)
    df, _ = _read_back(pred_out)
    assert list(df.columns) == ["id", "cif", "heat_ref", "heat_ref_pred", "error"]
    for col, k in (("id", 0), ("cif", 1), ("heat_ref", 2)):
        assert df[col].tolist() == [printable(r[k]) for r in rows]
    for i in valid:
        assert df["error"].iloc[i] == "" and np.isfinite(float(df["heat_ref_pred"].iloc[i]))
