"""The 2M-molecule pretraining corpus (issue 15): MOSES full from the data directory or the molsets wheel."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pytest

from harmony_mol.data.registry import resolve


def test_corpus_2m_is_moses_full_plus_the_shared_corpora(shared_data: Path) -> None:
    got = [(r.dataset, r.path.name, r.smiles_column) for r in resolve("pretrain-corpus-2m", shared_data)]
    assert got[:3] == [("moses-full", f"{n}.csv.gz", "SMILES") for n in ("train", "test", "test_scaffolds")]
    assert {d for d, _, _ in got[3:]} == {"zinc-decoys", "chembl-deepchem"}  # moses-zinc is inside moses-full
    with gzip.open(resolve("moses-full", shared_data)[0].path, "rt") as fh:
        assert fh.readline().strip() == "SMILES"


def test_moses_full_falls_back_to_the_molsets_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with pytest.raises(FileNotFoundError, match="moses-full"):
        resolve("moses-full", data)
    pkg = tmp_path / "site" / "moses"
    (pkg / "dataset" / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for n in ("train", "test", "test_scaffolds"):
        with gzip.open(pkg / "dataset" / "data" / f"{n}.csv.gz", "wt") as fh:
            fh.write("SMILES\nCCO\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "moses", raising=False)
    paths = [r.path for r in resolve("moses-full", data)]
    assert paths == [pkg / "dataset" / "data" / f"{n}.csv.gz" for n in ("train", "test", "test_scaffolds")]
