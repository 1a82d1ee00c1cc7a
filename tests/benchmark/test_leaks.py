"""Leak check: same-crystal matching between collections and the leak-free corpus (harmony_mol.benchmark.leaks)."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from harmony_mol.benchmark.leaks import find_overlap, leak_free, load_structures


@pytest.fixture(scope="module")
def perov(shared_data, tmp_path_factory):
    """The first 5 structures of the shared Perov-5 test file, read through load_structures."""
    df = pd.read_csv(shared_data / "crystals/perov_5/test.csv.gz", nrows=5)
    path = tmp_path_factory.mktemp("perov") / "five.csv"
    df.to_csv(path, index=False)
    entries = load_structures(path)
    assert [i for i, _ in entries] == [str(m) for m in df.material_id]
    assert len({s.composition.reduced_formula for _, s in entries}) == 5
    return entries


def _permuted(s, seed=0):
    from pymatgen.core import Structure

    sites = list(s)
    random.Random(seed).shuffle(sites)
    out = Structure.from_sites(sites)
    assert [x.specie for x in out] != [x.specie for x in s]
    return out


def _strained(s, strain=0.02):
    out = s.copy()
    out.apply_strain([strain, -strain / 2, strain / 2])
    return out


def _swap_ab(s):
    """The A and B cations exchanged: same composition, different crystal."""
    out = s.copy()
    a, b = out[0].specie, out[1].specie
    out.replace(0, b)
    out.replace(1, a)
    assert out.composition == s.composition
    return out


def _other_element(s):
    out = s.copy()
    out.replace_species({out[0].specie: "Zr" if str(out[0].specie) != "Zr" else "Hf"})
    return out


def _ids(overlap):
    return sorted(overlap.pairs)


def test_copies_are_found(perov):
    id0, s0 = perov[0]
    b = [("copy", s0.copy()), ("perm", _permuted(s0)), ("strain", _strained(s0))]
    ov = find_overlap([(id0, s0)], b)
    assert _ids(ov) == [(id0, "copy"), (id0, "perm"), (id0, "strain")]
    assert ov.counts() == {"n_a": 1, "n_b": 3, "a_in_b": 1, "b_in_a": 3, "pairs": 3, "compared": 3}


def test_other_crystals_are_not_found(perov):
    id0, s0 = perov[0]
    distorted = s0.copy()
    distorted.translate_sites([0], [0.3, 0.2, 0.1])  # cation moved far beyond stol
    b = [("swap", _swap_ab(s0)), ("element", _other_element(s0)), ("distorted", distorted)]
    assert find_overlap([(id0, s0)], b).pairs == ()
    # same framework: only the species tell the swapped crystal apart (a composition-only check would miss it)
    from pymatgen.analysis.structure_matcher import FrameworkComparator, StructureMatcher

    assert StructureMatcher(comparator=FrameworkComparator()).fit(s0, _swap_ab(s0))


def test_expanded_copy_is_not_a_candidate(perov):
    id0, s0 = perov[0]
    big = s0.copy()
    big.scale_lattice(s0.volume * 1.5)
    assert find_overlap([(id0, s0)], [("big", big)]).counts()["compared"] == 0
    assert find_overlap([(id0, s0)], [("big", big)], volume_tol=0.6).pairs == ((id0, "big"),)


def test_only_candidates_go_to_the_matcher(perov):
    calls = []

    class Counting:
        def fit(self, x, y):
            calls.append((x.composition.reduced_formula, y.composition.reduced_formula))
            return x.composition == y.composition

    ov = find_overlap(perov, perov[::-1], matcher=Counting())
    assert len(calls) == 5 and all(x == y for x, y in calls)
    assert sorted(ov.pairs) == sorted((i, i) for i, _ in perov)


def test_real_structures_match_themselves_only(perov):
    ov = find_overlap(perov, [(f"{i}-perm", _permuted(s, 1)) for i, s in perov])
    assert sorted(ov.pairs) == sorted((i, f"{i}-perm") for i, _ in perov)


def test_leak_free_drops_exactly_the_matches(perov):
    (i0, s0), (i1, s1), (i2, s2), (i3, s3), (i4, s4) = perov
    corpus = [(i0, s0), ("swap0", _swap_ab(s0)), (i1, _strained(s1)), (i2, s2), ("perm3", _permuted(s3)),
              ("elem4", _other_element(s4))]
    test = [("t0", s0.copy()), ("t1", _permuted(s1)), ("t3", s3), ("t4", s4)]
    kept = leak_free(corpus, test)
    assert [i for i, _ in kept] == ["swap0", i2, "elem4"]
    assert kept[1][1] is s2
    assert leak_free(corpus, []) == corpus
