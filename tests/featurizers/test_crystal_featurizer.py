"""Crystal featurizer on structures built with pymatgen at test time."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from featurizers.crystal import crystal_spec, featurize_structure
from featurizers.errors import FeaturizationError
from featurizers.schema import validate_record


def rock_salt() -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_simple_cubic_six_neighbours_including_self_images() -> None:
    spec = crystal_spec(cutoff=3.1)
    d = featurize_structure(Structure(Lattice.cubic(3.0), ["Po"], [[0, 0, 0]]), spec, y=[2.0])
    validate_record(d, spec)
    assert d.edge_index.size(1) == 6  # six periodic images of the single atom
    assert d.edge_index.unique().tolist() == [0]
    np.testing.assert_allclose(d.edge_dist.numpy(), 3.0, atol=1e-5)
    vecs = sorted(tuple(v) for v in d.edge_vec.round().tolist())
    assert vecs == sorted([(3.0, 0, 0), (-3.0, 0, 0), (0, 3.0, 0), (0, -3.0, 0), (0, 0, 3.0), (0, 0, -3.0)])


def test_rock_salt_shapes_and_k_nearest_cap() -> None:
    spec = crystal_spec(cutoff=8.0, max_neighbors=12, n_gaussians=40)
    s = rock_salt()
    d = featurize_structure(s, spec)
    validate_record(d, spec)
    assert d.num_nodes == 8 and d.edge_index.size(1) == 8 * 12
    assert d.edge_feat.shape == (96, 43) and d.x_feat.shape == (8, 22)
    assert set(d.x[:, 0].tolist()) == {11, 17}
    # |edge_vec| == edge_dist, and the 6 nearest of every atom are the unlike ions at a/2
    np.testing.assert_allclose(d.edge_vec.norm(dim=1).numpy(), d.edge_dist.numpy(), atol=1e-4)
    for centre in range(8):
        mask = d.edge_index[1] == centre
        dist = d.edge_dist[mask]
        assert dist.tolist() == sorted(dist.tolist())
        nearest = d.edge_index[0][mask][:6]
        assert all(d.x[int(n), 0] != d.x[centre, 0] for n in nearest)
    small = crystal_spec(cutoff=8.0, max_neighbors=4)
    assert featurize_structure(s, small).edge_index.size(1) == 8 * 4
    # deterministic: same input, identical output
    again = featurize_structure(s, spec)
    assert (again.edge_index == d.edge_index).all()


def test_bcc_iron_eight_nearest() -> None:
    s = Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    d = featurize_structure(s, crystal_spec(cutoff=2.6))
    assert d.edge_index.size(1) == 2 * 8
    np.testing.assert_allclose(d.edge_dist.numpy(), 2.87 * np.sqrt(3) / 2, atol=1e-4)


@pytest.mark.parametrize(
    ("structure", "spec", "reason"),
    [
        (Structure(Lattice.cubic(3.0), [{"Fe": 0.5, "Co": 0.5}], [[0, 0, 0]]), crystal_spec(), "disordered site(s)"),
        (Structure(Lattice.cubic(3.0), [{"Fe": 0.6}], [[0, 0, 0]]), crystal_spec(), "partial occupancy"),
        (
            Structure(Lattice.cubic(4.0), ["Fe", "Fe"], [[0, 0, 0], [0.01, 0, 0]]),
            crystal_spec(),
            "overlapping atoms",
        ),
        (Structure(Lattice.cubic(40.0), ["Fe"], [[0, 0, 0]]), crystal_spec(), "absurd cell"),
        (Structure(Lattice.cubic(7.0), ["Fe"], [[0, 0, 0]]), crystal_spec(cutoff=5.0), "isolated atom"),
        (Structure(Lattice.cubic(30.0), ["Fe"] * 3, [[0, 0, 0], [0.1, 0, 0], [0.2, 0, 0]]), crystal_spec(max_atoms=2),
         "3 sites > limit 2"),
    ],
)
def test_bad_structures_have_reasons(structure: Structure, spec, reason: str) -> None:
    with pytest.raises(FeaturizationError) as info:
        featurize_structure(structure, spec, row_id=3, source="x.cif")
    assert reason in info.value.reason
    assert info.value.row_id == 3


def test_empty_structure() -> None:
    with pytest.raises(FeaturizationError, match="no sites"):
        featurize_structure(Structure(Lattice.cubic(3.0), [], []), crystal_spec())


def test_spec_validation() -> None:
    with pytest.raises(ValueError):
        crystal_spec(cutoff=-1)
    assert crystal_spec().key() != crystal_spec(cutoff=6.0).key()
