"""Smoke tests on the real public data in the shared data directory (first rows only)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from featurizers import FeaturizationError, featurize_item, validate_record
from featurizers.crystal import crystal_spec
from featurizers.molecule import molecule_spec
from featurizers.readers import read_items


@pytest.mark.parametrize(
    ("rel", "kwargs", "n"),
    [
        ("crystals/perov_5/val.csv.gz", {"target_columns": ["heat_ref"]}, 5),
        ("crystals/carbon_24/val.csv.gz", {"target_columns": ["energy_per_atom"]}, 3),
        ("crystals/jarvis_dft3d_alignn_sample", {}, 5),
        ("crystals/cgcnn_sample_regression", {}, 10),
        ("crystals/matbench_perovskites/perovskite.json.gz", {}, 5),
    ],
)
def test_crystal_sources(shared_data: Path, rel: str, kwargs: dict, n: int) -> None:
    spec = crystal_spec()
    names, items = read_items(shared_data / rel, kind="crystal", **kwargs)
    assert len(names) == 1
    count = 0
    for item in itertools.islice(items, n):
        d = featurize_item(item, spec)
        validate_record(d, spec)
        assert d.y.shape == (1, 1) and d.y.isfinite().all()
        count += 1
    assert count == n


def test_bbbp_first_rows_reject_only_invalid(shared_data: Path) -> None:
    spec = molecule_spec()
    _, items = read_items(shared_data / "molecules/bbbp/BBBP.csv", target_columns=["p_np"], id_column="name")
    ok, bad = 0, []
    for item in itertools.islice(items, 100):
        try:
            validate_record(featurize_item(item, spec), spec)
            ok += 1
        except FeaturizationError as exc:
            bad.append((item.row_id, exc.reason))
    assert ok + len(bad) == 100
    assert bad and all("valence" in reason for _, reason in bad)  # BBBP ships a few hypervalent N rows
