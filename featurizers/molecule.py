"""SMILES -> graph record with RDKit (heavy atoms only, hydrogens implicit).

Two presets (see :mod:`featurizers.vocab` for every column): ``harmony`` (rich atom and bond features
plus atomic mass) and ``hu`` (the Hu et al. / pretrain-gnns convention: atom type + chirality, bond
type + direction).

Speed: creating RDKit ``Atom``/``Bond`` Python wrappers costs ~1.5 us each, more than the features
themselves, so the common case never iterates atoms. Elements come from a regex over the SMILES
tokens (RDKit keeps SMILES atom order), bonds and degrees from ``GetAdjacencyMatrix(useBO=True)``,
ring membership from ``RingInfo.AtomRings()``, H counts and hybridization from single-atom SMARTS
matches (which return indices, no wrappers), and the rare values (charges, chirality, stereo,
conjugation of non-aromatic bonds between two non-sp3 atoms) are read per atom or bond only where
they can occur. Anything unusual (explicit ``[H]`` atoms, dative or zero-order bonds, token mismatch)
takes the plain per-atom reference path :func:`_features_reference`; ``tests/featurizers`` checks
that both paths agree.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from rdkit import Chem, RDLogger, rdBase
from torch_geometric.data import Data

from featurizers import vocab as V
from featurizers.errors import FeaturizationError
from featurizers.record import arrays_to_data
from featurizers.schema import FeaturizerSpec

logger = logging.getLogger(__name__)

PRESETS = ("harmony", "hu")

_TOKEN = re.compile(r"\[[^\]]*\]|Br|Cl|[BCNOPSFIbcnops*]")
_BRACKET_SYMBOL = re.compile(r"\[\d*([A-Za-z][a-z]?|\*)")
_LOG_PREFIX = re.compile(r"^\[\d\d:\d\d:\d\d\]\s*")
_POSITION = re.compile(r"check for mistakes around position (\d+)")

# bond order * 2 (0..12, RDKit's GetBondTypeAsDouble tops out at 6) -> harmony bond_type
# (2: single, 3: aromatic, 4: double, 6: triple; anything else "other")
_BO2_TO_TYPE = np.array([4, 4, 0, 3, 1, 4, 2] + [4] * 6, dtype=np.int8)
# bond order * 2 -> hu bond_type (single 0, double 1, triple 2, aromatic 3; others as single)
_BO2_TO_HU = np.array([0, 0, 0, 3, 1, 0, 2] + [0] * 6, dtype=np.int8)
_HARMONY_BOND_TYPE = {
    Chem.BondType.SINGLE: 0,
    Chem.BondType.DOUBLE: 1,
    Chem.BondType.TRIPLE: 2,
    Chem.BondType.AROMATIC: 3,
}
_HU_BOND_DIR = {Chem.BondDir.NONE: 0, Chem.BondDir.ENDUPRIGHT: 1, Chem.BondDir.ENDDOWNRIGHT: 2}


def molecule_spec(preset: str = "harmony", max_atoms: int = 200) -> FeaturizerSpec:
    """The :class:`FeaturizerSpec` of a molecule preset.

    Args:
        preset: ``"harmony"`` (rich) or ``"hu"`` (Hu et al. minimal).
        max_atoms: Molecules with more heavy atoms are rejected.

    Raises:
        ValueError: Unknown preset or non-positive ``max_atoms``.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown molecule preset {preset!r}; choose one of {PRESETS}")
    if int(max_atoms) < 1:
        raise ValueError(f"max_atoms must be >= 1, got {max_atoms}")
    atom_cols = V.HARMONY_ATOM_COLUMNS if preset == "harmony" else V.HU_ATOM_COLUMNS
    bond_cols = V.HARMONY_BOND_COLUMNS if preset == "harmony" else V.HU_BOND_COLUMNS
    float_cols = V.HARMONY_ATOM_FLOAT_COLUMNS if preset == "harmony" else ()
    options: dict[str, Any] = {
        "max_atoms": int(max_atoms),
        "hydrogens": "implicit",
        "atom_columns": [c for c, _ in atom_cols],
        "atom_float_columns": list(float_cols),
        "bond_columns": [c for c, _ in bond_cols],
        "edge_order": "row-major (source, target), both directions",
    }
    return FeaturizerSpec(
        kind="molecule",
        preset=preset,
        atom_cat_dims=tuple(d for _, d in atom_cols),
        atom_float_dim=len(float_cols),
        bond_cat_dims=tuple(d for _, d in bond_cols),
        edge_float_dim=0,
        options=options,
    )


def featurize_smiles(
    smiles: str, spec: FeaturizerSpec, y: Sequence[float | None] | None = None, row_id: int = 0
) -> Data:
    """Featurize one SMILES into a graph record (see :mod:`featurizers.schema`).

    Raises:
        FeaturizationError: Empty input, RDKit parse or sanitization failure (RDKit's own message),
            no heavy atoms, or more heavy atoms than ``spec.options["max_atoms"]``.

    Shapes:
        x ``[N, 8]`` (harmony) or ``[N, 2]`` (hu); edge_index ``[2, 2B]``; y ``[1, T]``.
    """
    arrays = featurize_smiles_np(smiles, spec, row_id=row_id)
    return arrays_to_data(arrays, y, row_id)


def featurize_smiles_np(smiles: str, spec: FeaturizerSpec, row_id: int | None = None) -> dict[str, np.ndarray]:
    """Featurize one SMILES into compact numpy arrays (no torch objects).

    Returns:
        ``x`` int16 ``[N, C]``, ``x_feat`` float32 ``[N, F]``, ``edge_index`` int32 ``[2, E]``,
        ``edge_attr`` int8 ``[E, C_b]``, ``edge_feat`` float32 ``[E, 0]``.

    Raises:
        FeaturizationError: see :func:`featurize_smiles`.
    """
    if spec.kind != "molecule" or spec.preset not in PRESETS:
        raise ValueError(f"not a molecule spec: kind={spec.kind!r} preset={spec.preset!r}")
    if not isinstance(smiles, str):
        raise FeaturizationError(f"SMILES must be a string, got {type(smiles).__name__}", row_id, str(smiles))
    smi = smiles.strip()
    if not smi:
        raise FeaturizationError("empty SMILES", row_id, smiles)
    mol, fast_ok = _parse(smi, int(spec.options.get("max_atoms", 200)), row_id)
    z = _token_elements(smi) if fast_ok else None
    if z is not None and len(z) != mol.GetNumAtoms():
        z = None
    hu = spec.preset == "hu"
    out = None
    if z is not None:
        out = _features_hu_fast(mol, smi, z) if hu else _features_fast(mol, smi, z)
    if out is None:
        out = _features_reference(mol, hu)
    return out


def _parse(smi: str, max_atoms: int, row_id: int | None) -> tuple[Chem.Mol, bool]:
    """Parse and sanitize; returns the molecule and whether the fast feature path may be used."""
    _quiet_rdkit()
    mol = Chem.MolFromSmiles(smi)
    if mol is None:
        raise FeaturizationError(_diagnose(smi), row_id, smi)
    n_heavy = mol.GetNumHeavyAtoms()
    if n_heavy > max_atoms:
        raise FeaturizationError(f"{n_heavy} heavy atoms > limit {max_atoms}", row_id, smi)
    if n_heavy == 0:
        raise FeaturizationError("no heavy atoms", row_id, smi)
    # dative bonds make adjacency bond orders ambiguous; kept [H] atoms break the token count
    fast_ok = ">" not in smi and "<" not in smi and n_heavy == mol.GetNumAtoms()
    return mol, fast_ok


@lru_cache(maxsize=1)
def _quiet_rdkit() -> None:
    """Silence RDKit's C++ log once per process (on first use, not at import).

    ``rdBase.BlockLogs`` around every parse costs ~35 us, a third of the parse itself, so the featurizer
    turns the RDKit log off process-wide instead and captures reasons explicitly in :func:`_diagnose`.
    """
    RDLogger.DisableLog("rdApp.*")
    logger.debug("RDKit C++ logging disabled for this process (featurizer reasons are captured instead)")


def _diagnose(smi: str) -> str:
    """RDKit's own reason why ``smi`` does not parse (syntax) or does not sanitize (valence, ...)."""
    rdBase.EnableLog("rdApp.error")
    try:
        with rdBase.CaptureErrorLog() as cap:
            mol = Chem.MolFromSmiles(smi, sanitize=False)
    finally:
        rdBase.DisableLog("rdApp.error")
    if mol is None:
        return _parse_reason(cap.messages)
    try:
        Chem.SanitizeMol(mol)
    except Exception as exc:  # noqa: BLE001 - RDKit raises MolSanitizeException subclasses
        return str(exc).strip() or type(exc).__name__
    return "RDKit could not build the molecule"


def _parse_reason(messages: str) -> str:
    lines = [_LOG_PREFIX.sub("", ln).strip() for ln in messages.splitlines() if ln.strip()]
    if not lines:
        return "SMILES Parse Error: unparseable SMILES"
    reason = lines[0]
    for ln in lines[1:]:
        m = _POSITION.search(ln)
        if m:
            reason += f" (around position {m.group(1)})"
            break
    return reason


class _ZMap(dict):  # token -> atomic number, filled on first sight (-1 = unknown)
    def __missing__(self, tok: str) -> int:
        sym = tok
        if tok.startswith("["):
            m = _BRACKET_SYMBOL.match(tok)
            sym = m.group(1) if m else ""
        if sym == "*":
            z = 0
        else:
            try:
                z = int(Chem.GetPeriodicTable().GetAtomicNumber(sym[:1].upper() + sym[1:]))
            except Exception:  # noqa: BLE001 - unknown symbol, let the reference path decide
                z = -1
        self[tok] = z
        return z


_ZMAP = _ZMap()


def _token_elements(smi: str) -> list[int] | None:
    z = list(map(_ZMAP.__getitem__, _TOKEN.findall(smi)))
    if not z or -1 in z or 1 in z:
        return None
    return z


@lru_cache(maxsize=1)
def _queries() -> dict[str, Chem.Mol]:
    smarts = {
        # total H count as two bits: bit 0 = H1 or H3, bit 1 = H2 or H3
        "h_bit0": "[H1,H3]",
        "h_bit1": "[H2,H3]",
        "sp3": "[^3]",
        # anything not covered above or by the defaults (neutral, sp2): read per atom
        "rare": "[!H0&!H1&!H2&!H3,!^2&!^3,!+0]",
    }
    return {k: Chem.MolFromSmarts(v) for k, v in smarts.items()}


@lru_cache(maxsize=1)
def _mass_table() -> np.ndarray:
    pt = Chem.GetPeriodicTable()
    return np.array([pt.GetAtomicWeight(z) / 100.0 for z in range(119)] + [0.0], dtype=np.float32)


def _match(mol: Chem.Mol, query: Chem.Mol) -> list[int]:
    return [t[0] for t in mol.GetSubstructMatches(query, uniquify=False, maxMatches=100000)]


def _ring_bucket(size: int) -> int:
    return min(max(size, V.RING_SIZE_MIN), V.RING_SIZE_MAX + 1) - 2


# smallest ring size (0 = none, clipped at RING_SIZE_MAX + 1) -> ring_size bucket
_RING_BUCKET = np.array([0, 0, 0] + [_ring_bucket(k) for k in range(3, V.RING_SIZE_MAX + 2)], dtype=np.int16)


def _adjacency(mol: Chem.Mol) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    adj = Chem.GetAdjacencyMatrix(mol, useBO=True)
    src, dst = adj.nonzero()
    if src.size != 2 * mol.GetNumBonds():
        return None  # zero-order bonds vanish from the matrix
    bo2 = (adj[src, dst] * 2.0).astype(np.intp)  # exact: orders are multiples of 0.5
    return src, dst, bo2


def _features_fast(mol: Chem.Mol, smi: str, z: list[int]) -> dict[str, np.ndarray] | None:
    n = len(z)
    adj = _adjacency(mol)
    if adj is None:
        return None
    src, dst, bo2 = adj
    q = _queries()
    x = np.zeros((n, 8), dtype=np.int16)
    x[:, 0] = z
    x[:, 1] = np.minimum(np.bincount(src, minlength=n), 6)
    x[:, 2] = 3  # formal charge 0
    x[:, 5] = V.HYB_SP2
    aromatic_bond = bo2 == 3
    x[src[aromatic_bond], 6] = 1
    x[_match(mol, q["h_bit0"]), 4] = 1
    x[_match(mol, q["h_bit1"]), 4] += 2
    x[_match(mol, q["sp3"]), 5] = V.HYB_SP3
    for i in _match(mol, q["rare"]):
        a = mol.GetAtomWithIdx(i)
        x[i, 2] = min(max(a.GetFormalCharge(), -3), 3) + 3
        x[i, 4] = min(a.GetTotalNumHs(), 4)
        x[i, 5] = min(int(a.GetHybridization()), 8)
    if "@" in smi:
        x[:, 3] = [min(int(a.GetChiralTag()), 3) for a in mol.GetAtoms()]

    edge_attr = np.zeros((src.size, 4), dtype=np.int8)
    edge_attr[:, 0] = _BO2_TO_TYPE[bo2]
    rings = mol.GetRingInfo().AtomRings()
    if rings:
        ring_adj = np.zeros((n, n), dtype=bool)
        smallest = [0] * n
        for ring in rings:
            size = len(ring)
            for i in ring:
                if smallest[i] == 0 or size < smallest[i]:
                    smallest[i] = size
            r = list(ring)
            ring_adj[r, r[1:] + r[:1]] = True
        x[:, 7] = _RING_BUCKET[np.minimum(smallest, V.RING_SIZE_MAX + 1)]
        edge_attr[:, 2] = ring_adj[src, dst] | ring_adj[dst, src]

    # conjugation: aromatic bonds always; otherwise only possible between two non-sp3 atoms
    sp3 = x[:, 5] == V.HYB_SP3
    cand = ((src < dst) & ~(aromatic_bond | sp3[src] | sp3[dst])).nonzero()[0]
    has_dir = "/" in smi or "\\" in smi
    conj = aromatic_bond.view(np.int8)
    if cand.size or has_dir:
        pair = np.zeros((n, n), dtype=np.int8)
        for i, j in zip(src[cand].tolist(), dst[cand].tolist()):
            if mol.GetBondBetweenAtoms(i, j).GetIsConjugated():
                pair[i, j] = pair[j, i] = 1
        conj = conj | pair[src, dst]
        if has_dir:
            pair[:] = 0
            dbl = ((bo2 == 4) & (src < dst)).nonzero()[0]
            for i, j in zip(src[dbl].tolist(), dst[dbl].tolist()):
                pair[i, j] = pair[j, i] = min(int(mol.GetBondBetweenAtoms(i, j).GetStereo()), 7)
            edge_attr[:, 3] = pair[src, dst]
    edge_attr[:, 1] = conj
    return {
        "x": x,
        "x_feat": _mass_table()[z].reshape(n, 1),
        "edge_index": np.array((src, dst), dtype=np.int32).reshape(2, -1),
        "edge_attr": edge_attr,
        "edge_feat": np.zeros((src.size, 0), dtype=np.float32),
    }


def _features_hu_fast(mol: Chem.Mol, smi: str, z: np.ndarray) -> dict[str, np.ndarray] | None:
    n = len(z)
    adj = _adjacency(mol)
    if adj is None:
        return None
    src, dst, bo2 = adj
    atom_type = np.array(z, dtype=np.int16) - 1
    atom_type[atom_type < 0] = V.HU_UNKNOWN_ATOM
    chiral = np.zeros(n, dtype=np.int16)
    if "@" in smi:
        chiral[:] = [min(int(a.GetChiralTag()), 3) for a in mol.GetAtoms()]
    bond_dir = np.zeros(src.size, dtype=np.int8)
    if "/" in smi or "\\" in smi:
        pair = np.zeros((n, n), dtype=np.int8)
        for b in mol.GetBonds():
            d = _HU_BOND_DIR.get(b.GetBondDir(), 0)
            i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
            pair[i, j] = pair[j, i] = d
        bond_dir = pair[src, dst]
    return {
        "x": np.stack([atom_type, chiral], axis=1),
        "x_feat": np.zeros((n, 0), dtype=np.float32),
        "edge_index": np.array((src, dst), dtype=np.int32).reshape(2, -1),
        "edge_attr": np.stack([_BO2_TO_HU[bo2], bond_dir], axis=1).astype(np.int8),
        "edge_feat": np.zeros((src.size, 0), dtype=np.float32),
    }


def _features_reference(mol: Chem.Mol, hu: bool) -> dict[str, np.ndarray]:
    """Plain per-atom / per-bond implementation (slow, obviously correct; also the test oracle)."""
    n = mol.GetNumAtoms()
    ri = mol.GetRingInfo()
    rows = []
    for a in mol.GetAtoms():
        zz = a.GetAtomicNum()
        chir = min(int(a.GetChiralTag()), 3)
        if hu:
            rows.append((zz - 1 if 1 <= zz <= 118 else V.HU_UNKNOWN_ATOM, chir))
            continue
        size = ri.MinAtomRingSize(a.GetIdx()) if a.IsInRing() else 0
        bucket = 0 if size == 0 else min(max(size, V.RING_SIZE_MIN), V.RING_SIZE_MAX + 1) - 2
        rows.append(
            (
                min(zz, 119),
                min(a.GetDegree(), 6),
                min(max(a.GetFormalCharge(), -3), 3) + 3,
                chir,
                min(a.GetTotalNumHs(), 4),
                min(int(a.GetHybridization()), 8),
                int(a.GetIsAromatic()),
                bucket,
            )
        )
    edges: list[tuple[int, int, tuple[int, ...]]] = []
    for b in mol.GetBonds():
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        if hu:
            feat: tuple[int, ...] = (
                _HARMONY_BOND_TYPE.get(b.GetBondType(), 0),
                _HU_BOND_DIR.get(b.GetBondDir(), 0),
            )
        else:
            feat = (
                _HARMONY_BOND_TYPE.get(b.GetBondType(), V.BOND_OTHER),
                int(b.GetIsConjugated()),
                int(b.IsInRing()),
                min(int(b.GetStereo()), 7),
            )
        edges.append((i, j, feat))
        edges.append((j, i, feat))
    edges.sort(key=lambda e: (e[0], e[1]))
    n_bond_cols = 2 if hu else 4
    x = np.array(rows, dtype=np.int16).reshape(n, 2 if hu else 8)
    if hu:
        x_feat = np.zeros((n, 0), dtype=np.float32)
    else:
        x_feat = _mass_table()[x[:, 0]].reshape(n, 1)
    return {
        "x": x,
        "x_feat": x_feat,
        "edge_index": np.array([[e[0] for e in edges], [e[1] for e in edges]], dtype=np.int32).reshape(2, -1),
        "edge_attr": np.array([e[2] for e in edges], dtype=np.int8).reshape(-1, n_bond_cols),
        "edge_feat": np.zeros((len(edges), 0), dtype=np.float32),
    }
