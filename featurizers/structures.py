"""Parse crystal inputs (CIF / POSCAR text, pymatgen dicts, ASE atoms) into pymatgen ``Structure``.

Every failure becomes a :class:`FeaturizationError` carrying pymatgen's (or ASE's) own message, so a
bad file lands in ``rejected.csv`` instead of stopping a run.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from typing import Any

from featurizers.errors import FeaturizationError
from featurizers.text import NOT_PRINTABLE_ASCII, char_name

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


def structure_from_text(fmt: str, text: str, row_id: int | None = None, source: str = "",
                        max_sites: int | None = None) -> Any:
    """Parse one CIF (first data block) or POSCAR/CONTCAR text.

    The raw text is checked first (:func:`check_cif` / :func:`check_poscar`): values pymatgen would
    silently change (a Cyrillic ``Сu`` read as U, a negative cell length taken as its absolute value,
    a coordinate of 1e308 wrapped to 0, an occupancy 0 or an unreadable symbol that drops the site) are
    rejected, and a file with more than ``max_sites`` sites is rejected before the expensive parse.

    Raises:
        FeaturizationError: a check failed, pymatgen cannot parse it, or the CIF parser warned that
            sites were dropped.
    """
    from pymatgen.io.cif import CifParser
    from pymatgen.io.vasp import Poscar

    if not text or not text.strip():
        raise FeaturizationError(f"empty {fmt} input", row_id, source)
    limit = None if max_sites is None else 4000 * max_sites + 2_000_000  # a few hundred bytes per site + headers
    if limit is not None and len(text) > limit:
        raise FeaturizationError(f"{fmt} text of {len(text):,} characters > limit {limit:,} (max_atoms {max_sites})",
                                 row_id, source)
    n_rows = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if fmt == "cif":
                n_rows = check_cif(text, max_sites, row_id, source)
                structs = CifParser.from_str(text).parse_structures(primitive=False, on_error="raise")
                if not structs:
                    raise ValueError("no structure could be parsed")
                structure = structs[0]
            elif fmt == "poscar":
                check_poscar(text, max_sites, row_id, source)
                structure = Poscar.from_str(text).structure
            else:
                raise ValueError(f"unknown crystal text format {fmt!r}")
        except FeaturizationError:
            raise
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
    if fmt == "cif" and structure.is_ordered and len(structure) < n_rows:
        raise FeaturizationError(f"pymatgen kept {len(structure)} of the {n_rows} sites listed in the CIF",
                                 row_id, source)
    return structure


_UNCERTAINTY = re.compile(r"\(\d+\)$")
_SYMBOL = re.compile(r"^\d*([A-Za-z])([a-z]?)")
_UNKNOWN = ("?", ".")


def _number(value: str, name: str, row_id: int | None, source: str) -> float:
    """A CIF number (``1.234(5)``: the uncertainty is dropped); unreadable or non-finite -> rejected."""
    text = _UNCERTAINTY.sub("", str(value).strip())
    try:
        out = float(text)
    except ValueError:
        raise FeaturizationError(f"cannot read {name} value {str(value)[:40]!r}", row_id, source) from None
    if not math.isfinite(out):
        raise FeaturizationError(f"non-finite {name} value {str(value)[:40]!r}", row_id, source)
    return out


def _element_of(symbol: str) -> str | None:
    """The element a CIF type symbol / label names (``Fe3+`` -> Fe, ``O2`` -> O), ``None`` if none."""
    from pymatgen.core import Element

    m = _SYMBOL.match(symbol.strip())
    if m is None:
        return None
    one = m.group(1).upper()
    return next((c for c in (one + m.group(2), one) if Element.is_valid_symbol(c)), None)


def _column(block: Any, name: str) -> list[str] | None:
    value = block.data.get(name)
    if value is None:
        return None
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _at(column: list[str] | None, i: int, default: str | None = None) -> str | None:
    return column[i] if column is not None and i < len(column) else default


def check_cif(text: str, max_sites: int | None, row_id: int | None = None, source: str = "") -> int:
    """Check the raw values of every data block with an atom-site loop before pymatgen reads them.

    Returns:
        The number of atom-site rows of the first such block.

    Raises:
        FeaturizationError: more site rows than ``max_sites`` (or so many rows times symmetry operations
            that the cell must exceed it), a cell length that is not a positive number, an angle outside
            (0, 180), an element symbol that is not ASCII or names no element, an occupancy outside
            (0, 1], or a coordinate that is not a finite number of sane size.
    """
    from pymatgen.io.cif import CifFile

    _check_cif_ascii(text, row_id, source)
    try:
        cif = CifFile.from_str(text)
    except Exception as exc:  # noqa: BLE001 - pymatgen raises many exception types
        raise FeaturizationError(f"cif parse error: {type(exc).__name__}: {exc}", row_id, source) from None
    first = None
    for block in cif.data.values():
        coords = [_column(block, f"_atom_site_fract_{c}") for c in "xyz"]
        cart = [_column(block, f"_atom_site_Cartn_{c}") for c in "xyz"]
        if coords[0] is None and cart[0] is None:
            continue
        cols = coords if coords[0] is not None else cart
        n = len(cols[0])
        first = n if first is None else first
        if max_sites is not None:
            if n > max_sites:
                raise FeaturizationError(f"{n:,} atom sites in the CIF loop > limit {max_sites} (not parsed)",
                                         row_id, source)
            ops = max(len(_column(block, k) or []) for k in _SYMOP_KEYS)
            if ops and n * ops > 48 * max_sites:  # every orbit has >= ops/48 sites
                raise FeaturizationError(f"{n:,} atom sites x {ops} symmetry operations give more than "
                                         f"{max_sites} sites (not parsed)", row_id, source)
        _check_cell(block, row_id, source)
        _check_sites(block, cols, coords[0] is not None, n, row_id, source)
    return first or 0


_STRUCTURE_KEYS = ("_atom_site", "_cell", "_symmetry", "_space_group", "_atom_type")


def _check_cif_ascii(text: str, row_id: int | None, source: str) -> None:
    """No non-ASCII character in the structure items (cell, symmetry, atom sites).

    pymatgen's CIF reader deletes non-ASCII characters before parsing, so a Cyrillic ``Сu`` becomes
    ``u`` and then uranium. Non-ASCII text elsewhere (author names, comments) is left alone.
    """
    if text.isascii():
        return
    owners: list[str] = []  # the data names the current line's values belong to
    reading_keys = in_field = False
    for k, line in enumerate(text.splitlines(), start=1):
        if line.startswith(";"):
            in_field = not in_field
            continue
        body = line if in_field else line.split("#", 1)[0].strip()
        if not in_field and body:
            low = body.lower()
            if low.startswith(("data_", "loop_")):
                owners, reading_keys = [], low.startswith("loop_")
                continue
            if body.startswith("_"):
                if reading_keys:
                    owners.append(low.split()[0])
                    continue
                owners = [low.split()[0]]
            else:
                reading_keys = False
        if body.isascii():
            continue
        if any(o.startswith(_STRUCTURE_KEYS) for o in owners):
            ch = next(c for c in body if not c.isascii())
            raise FeaturizationError(f"cif line {k} holds {char_name(ch)} in a structure item "
                                     f"({owners[0]}); pymatgen would drop it", row_id, source)


_SYMOP_KEYS = ("_symmetry_equiv_pos_as_xyz", "_space_group_symop_operation_xyz", "_space_group_symop.operation_xyz")


def _check_cell(block: Any, row_id: int | None, source: str) -> None:
    for axis in "abc":
        vals = _column(block, f"_cell_length_{axis}")
        if vals is not None:
            v = _number(vals[0], f"_cell_length_{axis}", row_id, source)
            if v <= 0:
                raise FeaturizationError(f"cell length {axis} = {vals[0]} is not positive", row_id, source)
    for ang in ("alpha", "beta", "gamma"):
        vals = _column(block, f"_cell_angle_{ang}")
        if vals is not None:
            v = _number(vals[0], f"_cell_angle_{ang}", row_id, source)
            if not 0 < v < 180:
                raise FeaturizationError(f"cell angle {ang} = {vals[0]} is not in (0, 180)", row_id, source)


def _check_sites(block: Any, cols: list[list[str] | None], fractional: bool, n: int, row_id: int | None,
                 source: str) -> None:
    symbols = _column(block, "_atom_site_type_symbol")
    labels = _column(block, "_atom_site_label")
    occ = _column(block, "_atom_site_occupancy")
    limit = 1e3 if fractional else 1e6
    for i in range(n):
        label = _at(labels, i, f"#{i + 1}")
        sym = _at(symbols, i)
        if sym is None or sym in _UNKNOWN:
            sym = _at(labels, i, "")
        bad = NOT_PRINTABLE_ASCII.search(sym)
        if bad is not None:
            raise FeaturizationError(f"site {label}: element symbol {sym!r} holds {char_name(bad.group())}",
                                     row_id, source)
        if _element_of(sym) is None:
            raise FeaturizationError(f"site {label}: {sym!r} names no element", row_id, source)
        for axis, col in zip("xyz", cols):
            text = _at(col, i)
            if text is None:
                raise FeaturizationError(f"site {label}: missing coordinate {axis}", row_id, source)
            if abs(_number(text, f"coordinate {axis} of site {label}", row_id, source)) > limit:
                raise FeaturizationError(f"site {label}: coordinate {axis} = {text} is out of range "
                                         f"(|value| > {limit:g})", row_id, source)
        text = _at(occ, i)
        if text is not None and text not in _UNKNOWN:
            if not 0 < _number(text, f"occupancy of site {label}", row_id, source) <= 1 + 1e-3:
                raise FeaturizationError(f"site {label}: occupancy {text} is not in (0, 1]", row_id, source)


def check_poscar(text: str, max_sites: int | None, row_id: int | None = None, source: str = "") -> None:
    """Raw POSCAR checks: ASCII after the comment line, and the atom counts within ``max_sites``.

    Raises:
        FeaturizationError: a non-ASCII or control character outside the comment line, or more
            atoms declared than ``max_sites`` (checked before pymatgen reads the coordinates).
    """
    lines = text.splitlines()
    for k, line in enumerate(lines[1:], start=2):
        m = re.search(r"[^\x20-\x7e\t]", line)
        if m is not None:
            raise FeaturizationError(f"POSCAR line {k} holds {char_name(m.group())}", row_id, source)
    if max_sites is None or len(lines) < 7:
        return
    counts_line = lines[6] if re.search(r"[A-Za-z]", lines[5]) else lines[5]
    try:
        counts = [int(t) for t in counts_line.split()]
    except ValueError:
        return  # not a count line: pymatgen's own error explains
    if sum(counts) > max_sites:
        raise FeaturizationError(f"{sum(counts):,} atoms declared in the POSCAR > limit {max_sites} (not parsed)",
                                 row_id, source)


def structure_from_dict(d: Any, row_id: int | None = None, source: str = "") -> Any:
    """Pymatgen ``Structure.from_dict`` with errors turned into :class:`FeaturizationError`."""
    from pymatgen.core import Structure

    try:
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
