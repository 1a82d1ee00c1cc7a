"""Parse crystal inputs (CIF / POSCAR text, pymatgen dicts, ASE atoms) into pymatgen ``Structure``.

Every failure becomes a :class:`FeaturizationError` carrying pymatgen's (or ASE's) own message, so a
bad file lands in ``rejected.csv`` instead of stopping a run.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from featurizers.errors import FeaturizationError

#: CIF parse warnings that mean the parsed structure is not the one in the file.
_FATAL_CIF_WARNINGS = ("no structure", "occupancies", "sum to more than", "could not", "error")


@dataclass(frozen=True)
class CrystalText:
    """An unparsed crystal (cheap to send to worker processes).

    Args:
        fmt: ``"cif"`` or ``"poscar"``.
        text: The file contents.
        source: File name or id, for messages.
    """

    fmt: str
    text: str
    source: str = ""


def structure_from_text(fmt: str, text: str, row_id: int | None = None, source: str = "") -> Any:
    """Parse one CIF (first data block) or POSCAR/CONTCAR text.

    Raises:
        FeaturizationError: pymatgen cannot parse it, or the CIF parser warned that sites were dropped.
    """
    from pymatgen.io.cif import CifParser
    from pymatgen.io.vasp import Poscar

    if not text or not text.strip():
        raise FeaturizationError(f"empty {fmt} input", row_id, source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if fmt == "cif":
                structs = CifParser.from_str(text).parse_structures(primitive=False, on_error="raise")
                if not structs:
                    raise ValueError("no structure could be parsed")
                structure = structs[0]
            elif fmt == "poscar":
                structure = Poscar.from_str(text).structure
            else:
                raise ValueError(f"unknown crystal text format {fmt!r}")
        except Exception as exc:  # noqa: BLE001 - pymatgen raises many exception types
            msgs = "; ".join(str(w.message).splitlines()[0] for w in caught if str(w.message).strip())
            reason = f"{fmt} parse error: {type(exc).__name__}: {str(exc).strip() or 'no details'}"
            if msgs:
                reason += f" [{msgs[:300]}]"
            raise FeaturizationError(reason, row_id, source) from None
    fatal = [str(w.message) for w in caught if any(k in str(w.message).lower() for k in _FATAL_CIF_WARNINGS)]
    if fmt == "cif" and fatal:
        first = fatal[0].replace("\n", " ")
        raise FeaturizationError(f"cif parse warning: {first[:300]}", row_id, source)
    return structure


def structure_from_dict(d: Any, row_id: int | None = None, source: str = "") -> Any:
    """pymatgen ``Structure.from_dict`` with errors turned into :class:`FeaturizationError`."""
    from pymatgen.core import Structure

    try:
        if isinstance(d, Structure):
            return d
        return Structure.from_dict(d)
    except Exception as exc:  # noqa: BLE001
        raise FeaturizationError(f"invalid structure dict: {type(exc).__name__}: {exc}", row_id, source) from None


def structure_from_atoms(atoms: Any, row_id: int | None = None, source: str = "") -> Any:
    """ASE ``Atoms`` -> pymatgen ``Structure`` (must be periodic in all three directions)."""
    from pymatgen.io.ase import AseAtomsAdaptor

    if not all(bool(p) for p in atoms.pbc):
        raise FeaturizationError(f"not periodic in all directions (pbc={list(atoms.pbc)})", row_id, source)
    try:
        return AseAtomsAdaptor.get_structure(atoms)
    except Exception as exc:  # noqa: BLE001
        raise FeaturizationError(f"ase->pymatgen conversion failed: {exc}", row_id, source) from None
