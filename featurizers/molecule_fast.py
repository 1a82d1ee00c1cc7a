"""Fast feature path of the molecule featurizer (same output as the per-atom reference, fewer RDKit calls).

Creating an RDKit ``Atom``/``Bond`` Python wrapper costs ~1 us, more than the feature itself, so the
common case never iterates atoms. Elements come from the SMILES tokens (RDKit keeps SMILES atom order;
the caller passes them as ``z``), bonds and degrees from ``GetAdjacencyMatrix(useBO=True)``, ring
membership from ``RingInfo.AtomRings()``, H counts and hybridization from single-atom SMARTS matches
(which return indices, no wrappers); the rare values (charges, chirality, stereo, conjugation of
non-aromatic bonds between two non-sp3 atoms, H counts above 3, other hybridizations) are read per atom
or bond only where they can occur. Per-atom bookkeeping uses Python lists written column-wise into a
copy of a cached default atom block: for ~20 atoms a numpy call costs more than the loop it replaces.

Both functions return ``None`` when the molecule needs the reference path (zero-order bonds, which
vanish from the adjacency matrix). ``tests/featurizers/test_molecule_fast.py`` checks both presets
against :func:`featurizers.molecule._features_reference`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rdkit import Chem

from featurizers import vocab as V

# bond order * 2 (0..12, RDKit's GetBondTypeAsDouble tops out at 6) -> harmony bond_type
# (2: single, 3: aromatic, 4: double, 6: triple; anything else "other")
_BO2_TO_TYPE = np.array([4, 4, 0, 3, 1, 4, 2] + [4] * 6, dtype=np.int8)
# bond order * 2 -> hu bond_type (single 0, double 1, triple 2, aromatic 3; others as single)
_BO2_TO_HU = np.array([0, 0, 0, 3, 1, 0, 2] + [0] * 6, dtype=np.int8)
_HU_BOND_DIR = {Chem.BondDir.NONE: 0, Chem.BondDir.ENDUPRIGHT: 1, Chem.BondDir.ENDDOWNRIGHT: 2}

_CAP = V.RING_SIZE_MAX + 1  # ring sizes above RING_SIZE_MAX share the last bucket
#: smallest ring size (clipped at ``_CAP``) -> ring_size bucket; index 0 = not in a ring
_RING_BUCKET = [0, 0, 0] + [min(max(k, V.RING_SIZE_MIN), _CAP) - 2 for k in range(3, _CAP + 1)]


@lru_cache(maxsize=1)
def _queries() -> tuple[Chem.Mol, ...]:
    """Single-atom SMARTS: H-count bit 0, H-count bit 1, sp3, and "anything else" (read per atom).

    The last one matches what neither the others nor the default row (neutral, sp2) cover.
    """
    return tuple(Chem.MolFromSmarts(s) for s in ("[H1,H3]", "[H2,H3]", "[^3]", "[!H0&!H1&!H2&!H3,!^2&!^3,!+0]"))


@lru_cache(maxsize=1)
def _match_params() -> Chem.SubstructMatchParameters:
    params = Chem.SubstructMatchParameters()
    params.uniquify = False  # single-atom queries: nothing to uniquify
    params.maxMatches = 1_000_000
    return params


@lru_cache(maxsize=1)
def mass_table() -> np.ndarray:
    """Standard atomic weight / 100 by atomic number (0..118), float32; index 119 = 0."""
    pt = Chem.GetPeriodicTable()
    return np.array([pt.GetAtomicWeight(z) / 100.0 for z in range(119)] + [0.0], dtype=np.float32)


_TEMPLATE_ROW = np.array([0, 0, 3, 0, 0, V.HYB_SP2, 0, 0], dtype=np.int16)  # charge 0, sp2
_templates: list[np.ndarray] = []  # grown on demand: [0] holds rows for up to 256 * 2**k atoms


def _template(n: int) -> np.ndarray:
    """A fresh ``[n, 8]`` int16 harmony atom matrix filled with the default row (copy of a cached block)."""
    if not _templates or _templates[0].shape[0] < n:
        _templates[:] = [np.tile(_TEMPLATE_ROW, (max(256, 1 << (n - 1).bit_length()), 1))]
    return _templates[0][:n].copy()


def _arrays(x: np.ndarray, x_feat: np.ndarray, src: np.ndarray, dst: np.ndarray,
            edge_attr: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "x": x,
        "x_feat": x_feat,
        "edge_index": np.array((src, dst), dtype=np.int32).reshape(2, -1),
        "edge_attr": edge_attr,
        "edge_feat": np.zeros((src.size, 0), dtype=np.float32),
    }


def _adjacency(mol: Chem.Mol) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Directed edges in row-major order and their bond orders * 2 (``None`` if a bond has order 0)."""
    adj = Chem.GetAdjacencyMatrix(mol, useBO=True)
    src, dst = adj.nonzero()
    if src.size != 2 * mol.GetNumBonds():
        return None  # zero-order bonds vanish from the matrix
    bo2 = (adj[src, dst] * 2.0).astype(np.intp)  # exact: orders are multiples of 0.5
    return src, dst, bo2


def fast_features(mol: Chem.Mol, smi: str, z: list[int], hu: bool) -> dict[str, np.ndarray] | None:
    """Preset arrays of a sanitized heavy-atom-only molecule (see ``featurize_smiles_np``).

    ``None`` when the fast path cannot read it (a zero-order bond): the caller falls back to the reference.

    Args:
        mol: Sanitized RDKit molecule without explicit hydrogen atoms.
        smi: The SMILES it was parsed from (stereo markers decide whether stereo is read).
        z: Atomic numbers in atom order.
        hu: The ``hu`` preset (Hu et al.) instead of ``harmony``.

    Shapes:
        harmony: x ``[N, 8]`` int16, x_feat ``[N, 1]`` float32, edge_attr ``[E, 4]`` int8; hu: x ``[N, 2]``
        int16, x_feat ``[N, 0]`` float32, edge_attr ``[E, 2]`` int8; both: edge_index ``[2, E]`` int32,
        edge_feat ``[E, 0]`` float32.
    """
    adj = _adjacency(mol)
    if adj is None:
        return None
    return (_hu_features if hu else _harmony_features)(mol, smi, z, *adj)


def _harmony_features(mol: Chem.Mol, smi: str, z: list[int], src: np.ndarray, dst: np.ndarray,
                      bo2: np.ndarray) -> dict[str, np.ndarray]:
    n = len(z)
    q_h0, q_h1, q_sp3, q_rare = _queries()
    params = _match_params()

    x = _template(n)
    x[:, 0] = z
    x[:, 1] = np.minimum(np.bincount(src, minlength=n), 6)
    num_hs = [0] * n
    for (i,) in mol.GetSubstructMatches(q_h0, params):
        num_hs[i] = 1
    for (i,) in mol.GetSubstructMatches(q_h1, params):
        num_hs[i] += 2
    hyb = [V.HYB_SP2] * n
    for (i,) in mol.GetSubstructMatches(q_sp3, params):
        hyb[i] = V.HYB_SP3
    for (i,) in mol.GetSubstructMatches(q_rare, params):
        a = mol.GetAtomWithIdx(i)
        x[i, 2] = min(max(a.GetFormalCharge(), -3), 3) + 3
        num_hs[i] = min(a.GetTotalNumHs(), 4)
        hyb[i] = min(int(a.GetHybridization()), 8)
    x[:, 4] = num_hs
    x[:, 5] = hyb
    if "@" in smi:
        x[:, 3] = [min(int(a.GetChiralTag()), 3) for a in mol.GetAtoms()]
    aromatic_bond = bo2 == 3
    x[src[aromatic_bond], 6] = 1

    rings = mol.GetRingInfo().AtomRings()
    if rings:
        ring_bucket = [0] * n
        ring_pairs: list[int] = []  # i * n + j for consecutive ring atoms, both directions
        for ring in sorted(rings, key=len, reverse=True):  # smaller rings last: they win
            b = _RING_BUCKET[min(len(ring), _CAP)]
            prev = ring[-1]
            for i in ring:
                ring_bucket[i] = b
                ring_pairs += (prev * n + i, i * n + prev)
                prev = i
        x[:, 7] = ring_bucket
        ring_adj = np.zeros((n, n), dtype=np.int8)
        ring_adj.ravel()[ring_pairs] = 1
        in_ring = ring_adj[src, dst]
    else:
        in_ring = 0

    # conjugation: aromatic bonds always; otherwise only possible between two non-sp3 atoms
    conj = aromatic_bond.view(np.int8)
    has_dir = "/" in smi or "\\" in smi
    cand = [(i, j) for i, j, o in zip(src.tolist(), dst.tolist(), bo2.tolist())
            if i < j and o != 3 and hyb[i] != V.HYB_SP3 and hyb[j] != V.HYB_SP3]
    stereo = 0
    if cand or has_dir:
        pair = np.zeros((n, n), dtype=np.int8)
        for i, j in cand:
            if mol.GetBondBetweenAtoms(i, j).GetIsConjugated():
                pair[i, j] = pair[j, i] = 1
        conj = conj | pair[src, dst]
        if has_dir:
            pair[:] = 0
            for i, j, o in zip(src.tolist(), dst.tolist(), bo2.tolist()):
                if o == 4 and i < j:
                    pair[i, j] = pair[j, i] = min(int(mol.GetBondBetweenAtoms(i, j).GetStereo()), 7)
            stereo = pair[src, dst]
    edge_attr = np.zeros((src.size, 4), dtype=np.int8)
    edge_attr[:, 0] = _BO2_TO_TYPE[bo2]
    edge_attr[:, 1] = conj
    edge_attr[:, 2] = in_ring
    edge_attr[:, 3] = stereo
    return _arrays(x, mass_table()[z].reshape(n, 1), src, dst, edge_attr)


def _hu_features(mol: Chem.Mol, smi: str, z: list[int], src: np.ndarray, dst: np.ndarray,
                 bo2: np.ndarray) -> dict[str, np.ndarray]:
    n = len(z)
    atom_type = [zz - 1 if zz >= 1 else V.HU_UNKNOWN_ATOM for zz in z]
    chiral = [min(int(a.GetChiralTag()), 3) for a in mol.GetAtoms()] if "@" in smi else [0] * n
    edge_attr = np.zeros((src.size, 2), dtype=np.int8)
    edge_attr[:, 0] = _BO2_TO_HU[bo2]
    if "/" in smi or "\\" in smi:
        pair = np.zeros((n, n), dtype=np.int8)
        for b in mol.GetBonds():
            i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
            pair[i, j] = pair[j, i] = _HU_BOND_DIR.get(b.GetBondDir(), 0)
        edge_attr[:, 1] = pair[src, dst]
    x = np.array([atom_type, chiral], dtype=np.int16).T.copy()
    return _arrays(x, np.zeros((n, 0), dtype=np.float32), src, dst, edge_attr)
