"""Periodic crystal (pymatgen ``Structure``) -> graph record.

Nodes are the sites of the cell. Edges go from every neighbour (source, ``edge_index[0]``) to its centre
atom (target, ``edge_index[1]``) for all periodic images within ``cutoff`` (pymatgen
``get_neighbor_list``), keeping multi-edges to different images of the same atom and edges to the
atom's own images, capped at the ``max_neighbors`` nearest per centre (ties broken by neighbour index,
then image). Node features: categorical element (Z, 119 = other) and standardised element properties
(:mod:`featurizers.elements`). Edge features: Gaussian expansion of the distance (``n_gaussians``
centres on ``[0, cutoff]``, width = centre spacing) followed by the displacement vector / cutoff; the raw
``edge_dist`` (Å) and ``edge_vec`` (neighbour minus centre, Å) are stored as well.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from torch_geometric.data import Data

from featurizers.elements import FEATURE_NAMES, element_feature_table
from featurizers.errors import FeaturizationError
from featurizers.record import arrays_to_data
from featurizers.schema import FeaturizerSpec

CRYSTAL_PRESET = "crystal"
_DIST_DECIMALS = 6  # distances are rounded to 1e-6 Å before ordering, so float noise cannot reorder ties


def crystal_spec(cutoff: float = 8.0, max_neighbors: int = 12, n_gaussians: int = 40, max_atoms: int = 500,
                 max_volume_per_atom: float = 500.0, min_distance: float = 0.5) -> FeaturizerSpec:
    """The :class:`FeaturizerSpec` of the crystal featurizer.

    Args:
        cutoff: Neighbour search radius in Å.
        max_neighbors: Keep at most this many nearest neighbours per centre atom.
        n_gaussians: Number of Gaussian distance basis functions.
        max_atoms: Reject cells with more sites.
        max_volume_per_atom: Reject cells whose volume per site (Å^3) is larger.
        min_distance: Reject structures with two atoms closer than this (Å).

    Raises:
        ValueError: A non-positive or inconsistent option.
    """
    if not (cutoff > 0 and max_neighbors >= 1 and n_gaussians >= 2 and max_atoms >= 1):
        raise ValueError("cutoff must be > 0, max_neighbors >= 1, n_gaussians >= 2, max_atoms >= 1")
    if not (0 <= min_distance < cutoff) or max_volume_per_atom <= 0:
        raise ValueError("need 0 <= min_distance < cutoff and max_volume_per_atom > 0")
    options: dict[str, Any] = {
        "cutoff": float(cutoff),
        "max_neighbors": int(max_neighbors),
        "n_gaussians": int(n_gaussians),
        "max_atoms": int(max_atoms),
        "max_volume_per_atom": float(max_volume_per_atom),
        "min_distance": float(min_distance),
        "atom_columns": ["element"],
        "atom_float_columns": list(FEATURE_NAMES),
        "edge_float_columns": [f"gauss_{i}" for i in range(int(n_gaussians))] + ["dx", "dy", "dz"],
        "edge_direction": "neighbour -> centre",
    }
    return FeaturizerSpec(kind="crystal", preset=CRYSTAL_PRESET, atom_cat_dims=(120,),
                          atom_float_dim=len(FEATURE_NAMES), bond_cat_dims=(), edge_float_dim=int(n_gaussians) + 3,
                          options=options)


def featurize_structure(structure: Any, spec: FeaturizerSpec, y: Sequence[float | None] | None = None,
                        row_id: int = 0, source: str = "") -> Data:
    """Featurize one pymatgen ``Structure`` into a graph record (the arrays of :func:`featurize_structure_np`).

    Raises:
        FeaturizationError: see :func:`featurize_structure_np`.
    """
    return arrays_to_data(featurize_structure_np(structure, spec, row_id=row_id, source=source), y, row_id)


def _check_structure(structure: Any, o: dict[str, Any], row_id: int | None, source: str) -> np.ndarray:
    """Validate the cell; returns the atomic numbers."""
    n = len(structure)
    if n == 0:
        raise FeaturizationError("empty structure (no sites)", row_id, source)
    if n > o["max_atoms"]:
        raise FeaturizationError(f"{n} sites > limit {o['max_atoms']}", row_id, source)
    _check_species(structure, row_id, source)
    _check_geometry(structure, row_id, source)
    if not structure.is_ordered:
        bad = [f"{i}:{site.species.formula}" for i, site in enumerate(structure)
               if len(site.species) != 1 or abs(sum(site.species.values()) - 1.0) > 1e-6]
        shown = ", ".join(bad[:3]) + (" ..." if len(bad) > 3 else "")
        raise FeaturizationError(f"disordered site(s): {len(bad)} of {n} sites have partial occupancy or mixed "
                                 f"species ({shown})", row_id, source)
    try:
        z = np.array([site.specie.Z for site in structure], dtype=np.int64)
    except (AttributeError, ValueError) as exc:
        raise FeaturizationError(f"unsupported species: {exc}", row_id, source) from None
    volume = float(structure.lattice.volume)
    if not math.isfinite(volume) or volume < 1e-6:
        raise FeaturizationError(f"degenerate cell (volume {volume:.3g} Å^3)", row_id, source)
    if volume / n > o["max_volume_per_atom"]:
        raise FeaturizationError(f"absurd cell: volume per atom {volume / n:.1f} Å^3 > limit "
                                 f"{o['max_volume_per_atom']:g}", row_id, source)
    return z


def _check_species(structure: Any, row_id: int | None, source: str) -> None:
    """Every species must be a real element.

    pymatgen turns unknown symbols (``Xx``, ``Q``) into dummy species whose atomic number comes from a
    string hash, so keeping them would make a row's fate depend on ``PYTHONHASHSEED``.
    """
    from pymatgen.core import DummySpecies, Element, Species

    for i, site in enumerate(structure):
        for sp in site.species:
            el = sp if isinstance(sp, Element) else None
            if isinstance(sp, Species) and not isinstance(sp, DummySpecies):
                el = sp.element
            if el is None or not 1 <= int(el.Z) <= 118:
                raise FeaturizationError(f"site {i}: {str(sp)!r} is not a chemical element", row_id, source)


def _check_geometry(structure: Any, row_id: int | None, source: str) -> None:
    """Finite cell and coordinates of sane size (a coordinate of 1e308 would wrap to 0)."""
    lat = structure.lattice
    if not np.isfinite(lat.matrix).all() or not all(math.isfinite(v) and v > 0 for v in lat.abc):
        raise FeaturizationError(f"invalid cell: lengths {lat.abc}", row_id, source)
    frac = np.asarray(structure.frac_coords, dtype=np.float64)
    sane = (np.abs(frac) <= 1e3).all(axis=1)  # False for NaN and inf too
    if not sane.all():
        k = int(np.argmin(sane))
        raise FeaturizationError(f"site {k}: fractional coordinates {frac[k].tolist()} are not finite or out of "
                                 "range (|value| > 1000)", row_id, source)


def featurize_structure_np(structure: Any, spec: FeaturizerSpec, row_id: int | None = None,
                           source: str = "") -> dict[str, np.ndarray]:
    """Featurize one pymatgen ``Structure`` into compact numpy arrays.

    Returns:
        ``x`` int16 ``[N, 1]``, ``x_feat`` float32 ``[N, 22]``, ``edge_index`` int32 ``[2, E]`` with
        ``E <= N * max_neighbors``, ``edge_attr`` int8 ``[E, 0]``, ``edge_feat`` float32
        ``[E, n_gaussians + 3]``, ``edge_dist`` float32 ``[E]``, ``edge_vec`` float32 ``[E, 3]``.

    Raises:
        FeaturizationError: disordered sites, empty or absurd cell, overlapping or isolated atoms.
    """
    if spec.kind != "crystal":
        raise ValueError(f"not a crystal spec: kind={spec.kind!r}")
    o = spec.options
    z = _check_structure(structure, o, row_id, source)
    n = z.size
    cutoff = float(o["cutoff"])
    center, neigh, images, dist = structure.get_neighbor_list(r=cutoff, exclude_self=False)
    center, neigh = np.asarray(center, dtype=np.int64), np.asarray(neigh, dtype=np.int64)
    images, dist = np.asarray(images, dtype=np.int64).reshape(-1, 3), np.asarray(dist, dtype=np.float64)
    not_self = ~((center == neigh) & ~images.any(axis=1))
    center, neigh, images, dist = center[not_self], neigh[not_self], images[not_self], dist[not_self]

    min_d = float(o["min_distance"])
    if dist.size and float(dist.min()) < min_d:
        k = int(np.argmin(dist))
        raise FeaturizationError(f"overlapping atoms: sites {int(center[k])} and {int(neigh[k])} are "
                                 f"{float(dist[k]):.3f} Å apart (< min_distance {min_d:g})", row_id, source)
    counts = np.bincount(center, minlength=n)
    if (counts == 0).any():
        lonely = np.nonzero(counts == 0)[0]
        raise FeaturizationError(f"isolated atom(s): {lonely.size} site(s) (first: {int(lonely[0])}) have no "
                                 f"neighbour within {cutoff:g} Å", row_id, source)

    # k nearest per centre, deterministic: centre, rounded distance, neighbour, image
    order = np.lexsort((images[:, 2], images[:, 1], images[:, 0], neigh, np.round(dist, _DIST_DECIMALS), center))
    center, neigh, images, dist = center[order], neigh[order], images[order], dist[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(center.size) - starts[center]
    keep = rank < int(o["max_neighbors"])
    center, neigh, images, dist = center[keep], neigh[keep], images[keep], dist[keep]

    cart = structure.cart_coords
    vec = cart[neigh] + images @ structure.lattice.matrix - cart[center]

    mu = np.linspace(0.0, cutoff, int(o["n_gaussians"]))
    gauss = np.exp(-(((dist[:, None] - mu[None, :]) / (mu[1] - mu[0])) ** 2))
    edge_feat = np.concatenate([gauss, vec / cutoff], axis=1).astype(np.float32)

    zc = np.minimum(z, 119)
    return {
        "x": zc.astype(np.int16).reshape(n, 1),
        "x_feat": element_feature_table()[zc],
        "edge_index": np.stack([neigh, center]).astype(np.int32),
        "edge_attr": np.zeros((center.size, 0), dtype=np.int8),
        "edge_feat": edge_feat,
        "edge_dist": dist.astype(np.float32),
        "edge_vec": vec.astype(np.float32),
    }
