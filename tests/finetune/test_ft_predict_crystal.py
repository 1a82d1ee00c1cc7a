"""Crystal models go through the same Predictor: pymatgen Structures in Python, folders/CSVs on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from harmony_mol.models.io import ModelBundle
from harmony_mol.predict.api import Predictor

from .conftest import TINY_ENCODER


def _crystal_bundle() -> ModelBundle:
    from featurizers.crystal import crystal_spec
    from harmony_mol.config import config_to_dict
    from harmony_mol.models.property_model import build_model
    from harmony_mol.models.registry import build_encoder, encoder_config_from_dict
    from harmony_mol.models.scaler import TargetScaler

    spec = crystal_spec(cutoff=6.0, max_neighbors=8)
    torch.manual_seed(0)
    ecfg = config_to_dict(encoder_config_from_dict(TINY_ENCODER))
    model = build_model(build_encoder(ecfg, spec.to_dict()), 1, "mean", {"hidden_dim": 8})
    member = ModelBundle.member_from_model(model, TargetScaler((1.0,), (2.0,)), 0, {}, {})
    return ModelBundle(encoder_config=ecfg, input_dims=spec.to_dict(), featurizer_spec=spec.to_dict(),
                       readout="mean", head_config={"hidden_dim": 8}, task_type="regression",
                       target_names=["e_form"], members=[member])


def test_predict_structures_keeps_order() -> None:
    from pymatgen.core import Lattice, Structure

    nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    si = Structure(Lattice.cubic(5.43), ["Si", "Si"], [[0, 0, 0], [0.25, 0.25, 0.25]])
    pred = Predictor(_crystal_bundle())
    df = pred.predict([nacl, "not a structure", si, nacl])
    assert len(df) == 4 and df["error"].iloc[1] and not df["error"].iloc[[0, 2, 3]].any()
    assert np.isnan(df["e_form_pred"].iloc[1]) and np.isfinite(df["e_form_pred"].iloc[[0, 2, 3]]).all()
    assert df["e_form_pred"].iloc[0] == pytest.approx(df["e_form_pred"].iloc[3], abs=1e-6)
    assert df["e_form_pred"].iloc[0] != pytest.approx(df["e_form_pred"].iloc[2], abs=1e-9)


def test_predict_cif_folder(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "crystals" / "cgcnn_sample_regression"
    pred = Predictor(_crystal_bundle())
    st = pred.predict_file(folder, tmp_path / "p.csv", progress=False)
    df = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)
    ids = pd.read_csv(folder / "id_prop.csv", header=None)[0].astype(str).tolist()
    assert st.n_rows == len(df) == len(ids)
    assert df["row_id"].tolist() == list(range(len(ids)))
    assert [str(i) for i in df["id"]] == ids
    assert (df["error"] == "").all() and np.isfinite(df["e_form_pred"]).all()


def test_predict_cif_csv_keeps_all_columns(shared_data: Path, tmp_path: Path) -> None:
    """A CSV with a CIF column (Perov-5 layout) keeps every input column, order, and bad rows."""
    src = pd.read_csv(shared_data / "crystals" / "perov_5" / "val.csv.gz", nrows=4, dtype=str, keep_default_na=False)
    src.loc[1, "cif"] = "data_broken\n_cell_length_a 1\n"
    src.loc[2, "cif"] = ""
    path = tmp_path / "in.csv"
    src.to_csv(path, index=False)
    pred = Predictor(_crystal_bundle())
    st = pred.predict_file(path, tmp_path / "p.csv", progress=False)
    out = pd.read_csv(tmp_path / "p.csv", dtype=str, keep_default_na=False)
    assert st.n_rows == 4 and len(out) == 4
    for col in src.columns:
        assert out[col].tolist() == src[col].tolist()
    assert out["error"].iloc[1] and out["error"].iloc[2] == "empty CIF"
    assert out["error"].iloc[0] == "" and out["error"].iloc[3] == ""
    first = float(out["e_form_pred"].iloc[0])
    assert out["e_form_pred"].iloc[1] in ("", "nan", "NaN") and first == first
