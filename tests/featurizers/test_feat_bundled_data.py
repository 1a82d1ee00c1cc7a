"""The bundled quickstart data featurizes as data/README.md promises."""

from __future__ import annotations

import math
from pathlib import Path

from featurizers import FeaturizationError, featurize_item
from featurizers.crystal import crystal_spec
from featurizers.molecule import molecule_spec
from featurizers.readers import read_items


def test_bad_examples_keep_good_rows_and_labels(repo_root: Path) -> None:
    spec = molecule_spec(max_atoms=200)
    _, items = read_items(repo_root / "data/molecules/bad_examples.csv", target_columns=["logS"])
    kept, rejected = [], {}
    for item in items:
        try:
            kept.append(featurize_item(item, spec))
        except FeaturizationError as exc:
            rejected[exc.row_id + 1] = exc.reason
    assert len(kept) == 8
    assert sorted(rejected) == [2, 4, 6, 8, 10, 12, 14]
    assert "500 heavy atoms > limit 200" in rejected[12]
    assert [d.row_id.item() for d in kept] == [0, 2, 4, 6, 8, 10, 12, 14]
    assert abs(kept[1].y.item() + 1.72) < 1e-6  # aspirin keeps its own label
    assert math.isnan(kept[-1].y.item())


def test_bundled_crystals_first_files(repo_root: Path) -> None:
    names, items = read_items(repo_root / "data/crystals/aflow_prototypes")
    assert names == ["target"]
    spec = crystal_spec()
    for _, item in zip(range(5), items):
        d = featurize_item(item, spec)
        assert d.y.item() > 0
