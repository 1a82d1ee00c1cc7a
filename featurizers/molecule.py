"""SMILES -> graph record with RDKit (heavy atoms only, hydrogens implicit).

Two presets (see :mod:`featurizers.vocab` for every column): ``harmony`` (rich atom and bond features
plus atomic mass) and ``hu`` (the Hu et al. / pretrain-gnns convention: atom type + chirality, bond
type + direction).

Speed (see :mod:`featurizers.molecule_fast`): SMILES without stereo markers are parsed with
``sanitize=False`` and then ``SanitizeMol`` (the same checks and messages as ``MolFromSmiles``, minus its
stereo perception pass, ~20 us of ~75 us per drug-like molecule); SMILES with ``@``, ``/``, a backslash or a
CXSMILES block take ``MolFromSmiles``. Anything unusual (explicit ``[H]`` atoms, dative or zero-order
bonds, token mismatch) takes the per-atom reference path :func:`_features_reference`.
``tests/featurizers`` checks that all paths agree.
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
from featurizers.molecule_fast import _HU_BOND_DIR, fast_features, mass_table
from featurizers.record import arrays_to_data
from featurizers.schema import FeaturizerSpec
from featurizers.text import printable, smiles_text_reason

logger = logging.getLogger(__name__)

PRESETS = ("harmony", "hu")

_TOKEN = re.compile(r"\[[^\]]*\]|Br|Cl|[BCNOPSFIbcnops*]")
_BRACKET_SYMBOL = re.compile(r"\[\d*([A-Za-z][a-z]?|\*)")
_LOG_PREFIX = re.compile(r"^\[\d\d:\d\d:\d\d\]\s*")
_POSITION = re.compile(r"check for mistakes around position (\d+)")

_HARMONY_BOND_TYPE = {Chem.BondType.SINGLE: 0, Chem.BondType.DOUBLE: 1, Chem.BondType.TRIPLE: 2,
                      Chem.BondType.AROMATIC: 3}


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
    atom_cols, bond_cols, float_cols = (
        (V.HARMONY_ATOM_COLUMNS, V.HARMONY_BOND_COLUMNS, V.HARMONY_ATOM_FLOAT_COLUMNS) if preset == "harmony"
        else (V.HU_ATOM_COLUMNS, V.HU_BOND_COLUMNS, ())
    )
    options: dict[str, Any] = {
        "max_atoms": int(max_atoms),
        "hydrogens": "implicit",
        "atom_columns": [c for c, _ in atom_cols],
        "atom_float_columns": list(float_cols),
        "bond_columns": [c for c, _ in bond_cols],
        "edge_order": "row-major (source, target), both directions",
    }
    return FeaturizerSpec(kind="molecule", preset=preset, atom_cat_dims=tuple(d for _, d in atom_cols),
                          atom_float_dim=len(float_cols), bond_cat_dims=tuple(d for _, d in bond_cols),
                          edge_float_dim=0, options=options)


def featurize_smiles(smiles: str, spec: FeaturizerSpec, y: Sequence[float | None] | None = None,
                     row_id: int = 0) -> Data:
    """Featurize one SMILES into a graph record (see :mod:`featurizers.schema`).

    Raises:
        FeaturizationError: see :func:`featurize_smiles_np`.

    Shapes:
        x ``[N, 8]`` (harmony) or ``[N, 2]`` (hu); edge_index ``[2, 2B]``; y ``[1, T]``.
    """
    return arrays_to_data(featurize_smiles_np(smiles, spec, row_id=row_id), y, row_id)


def featurize_smiles_np(smiles: str, spec: FeaturizerSpec, row_id: int | None = None) -> dict[str, np.ndarray]:
    """Featurize one SMILES into compact numpy arrays (no torch objects).

    Returns:
        ``x`` int16 ``[N, C]``, ``x_feat`` float32 ``[N, F]``, ``edge_index`` int32 ``[2, E]``,
        ``edge_attr`` int8 ``[E, C_b]``, ``edge_feat`` float32 ``[E, 0]``.

    Raises:
        FeaturizationError: Empty or non-ASCII input, RDKit parse or sanitization failure (RDKit's own
            message), no heavy atoms, or more heavy atoms than ``spec.options["max_atoms"]``.
    """
    if spec.kind != "molecule" or spec.preset not in PRESETS:
        raise ValueError(f"not a molecule spec: kind={spec.kind!r} preset={spec.preset!r}")
    if not isinstance(smiles, str):
        raise FeaturizationError(f"SMILES must be a string, got {type(smiles).__name__}", row_id, str(smiles))
    smi = smiles.strip()
    if not smi:
        raise FeaturizationError("empty SMILES", row_id, printable(smiles))
    bad = smiles_text_reason(smi)
    if bad is not None:
        raise FeaturizationError(bad, row_id, printable(smi))
    max_atoms = int(spec.options.get("max_atoms", 200))
    _check_size(smi, max_atoms, row_id)
    mol, z = _parse(smi, max_atoms, row_id)
    hu = spec.preset == "hu"
    out = None if z is None else fast_features(mol, smi, z, hu)
    return _features_reference(mol, hu) if out is None else out


def _check_size(smi: str, max_atoms: int, row_id: int | None) -> None:
    """Cheap upper bounds before RDKit parses anything (a 66 kB SMILES takes RDKit minutes).

    The heavy-atom tokens of a SMILES (every atom token except ``[H]``-like and ``*`` atoms) are
    exactly its heavy atoms, so a count above ``max_atoms`` is rejected without parsing.
    """
    limit = 40 * max_atoms + 1000  # generous: bracket atoms, explicit H, stereo
    if len(smi) > limit:
        raise FeaturizationError(f"SMILES of {len(smi):,} characters > limit {limit:,} (max_atoms {max_atoms})",
                                 row_id, smi)
    tokens = _TOKEN.findall(smi.split(" ", 1)[0])  # not the CXSMILES block
    if len(tokens) <= max_atoms:
        return
    heavy = sum(1 for t in tokens if t != "*" and _ZMAP[t] not in (0, 1))
    if heavy > max_atoms:
        raise FeaturizationError(f"{heavy} heavy atoms > limit {max_atoms}", row_id, smi)  # exact count


def _parse(smi: str, max_atoms: int, row_id: int | None) -> tuple[Chem.Mol, list[int] | None]:
    """Parse and sanitize.

    Returns:
        The molecule and, when the fast feature path may be used, the atomic numbers of its atoms
        (``None``: use the reference path).
    """
    _quiet_rdkit()
    # dative bonds make adjacency bond orders ambiguous: reference path
    z = _token_elements(smi) if ">" not in smi and "<" not in smi else None
    mol = None
    if z is not None and not any(c in smi for c in "@/\\|"):  # stereo markers or CXSMILES: full parse
        mol = Chem.MolFromSmiles(smi, sanitize=False)
        if mol is not None:
            try:
                Chem.SanitizeMol(mol)
            except Exception:  # noqa: BLE001 - bad input: the full parse below fails and _diagnose explains
                mol = None
    if mol is None:
        mol = Chem.MolFromSmiles(smi)
        if mol is None:
            raise FeaturizationError(_diagnose(smi), row_id, smi)
    n_heavy = mol.GetNumHeavyAtoms()
    if n_heavy > max_atoms:
        raise FeaturizationError(f"{n_heavy} heavy atoms > limit {max_atoms}", row_id, smi)
    if n_heavy == 0:
        raise FeaturizationError("no heavy atoms", row_id, smi)
    if z is None or n_heavy != len(z) or n_heavy != mol.GetNumAtoms():
        return mol, None  # kept [H] atoms or a token/atom mismatch: reference path
    return mol, z


@lru_cache(maxsize=1)
def _quiet_rdkit() -> None:
    """Silence RDKit's C++ log once per process, on first use.

    ``rdBase.BlockLogs`` around every parse would cost ~35 us, a third of the parse; :func:`_diagnose`
    captures the reasons explicitly.
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
    for ln in lines[1:]:
        m = _POSITION.search(ln)
        if m:
            return f"{lines[0]} (around position {m.group(1)})"
    return lines[0]


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
    return None if not z or -1 in z or 1 in z else z


def _features_reference(mol: Chem.Mol, hu: bool) -> dict[str, np.ndarray]:
    """Plain per-atom / per-bond implementation (slow, obviously correct; also the test oracle)."""
    n = mol.GetNumAtoms()
    ri = mol.GetRingInfo()
    rows = []
    for a in mol.GetAtoms():
        zz, chir = a.GetAtomicNum(), min(int(a.GetChiralTag()), 3)
        if hu:
            rows.append((zz - 1 if 1 <= zz <= 118 else V.HU_UNKNOWN_ATOM, chir))
            continue
        size = ri.MinAtomRingSize(a.GetIdx()) if a.IsInRing() else 0
        bucket = 0 if size == 0 else min(max(size, V.RING_SIZE_MIN), V.RING_SIZE_MAX + 1) - 2
        rows.append((min(zz, 119), min(a.GetDegree(), 6), min(max(a.GetFormalCharge(), -3), 3) + 3, chir,
                     min(a.GetTotalNumHs(), 4), min(int(a.GetHybridization()), 8), int(a.GetIsAromatic()), bucket))
    edges: list[tuple[int, int, tuple[int, ...]]] = []
    for b in mol.GetBonds():
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        if hu:
            feat: tuple[int, ...] = (_HARMONY_BOND_TYPE.get(b.GetBondType(), 0), _HU_BOND_DIR.get(b.GetBondDir(), 0))
        else:
            feat = (_HARMONY_BOND_TYPE.get(b.GetBondType(), V.BOND_OTHER), int(b.GetIsConjugated()),
                    int(b.IsInRing()), min(int(b.GetStereo()), 7))
        edges += [(i, j, feat), (j, i, feat)]
    edges.sort(key=lambda e: (e[0], e[1]))
    x = np.array(rows, dtype=np.int16).reshape(n, 2 if hu else 8)
    return {
        "x": x,
        "x_feat": np.zeros((n, 0), dtype=np.float32) if hu else mass_table()[x[:, 0]].reshape(n, 1),
        "edge_index": np.array([[e[0] for e in edges], [e[1] for e in edges]], dtype=np.int32).reshape(2, -1),
        "edge_attr": np.array([e[2] for e in edges], dtype=np.int8).reshape(-1, 2 if hu else 4),
        "edge_feat": np.zeros((len(edges), 0), dtype=np.float32),
    }
