"""One input item before featurization (:class:`RawItem`) and the parsing of its target cells."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from featurizers.errors import FeaturizationError
from featurizers.text import printable

_MISSING = {"", "nan", "na", "n/a", "none", "null"}


@dataclass(frozen=True)
class RawItem:
    """One input item before featurization.

    Args:
        row_id: 0-based index in the input (data rows, header excluded).
        item_id: Identifier shown in reports (id column, file name, or the row number).
        payload: SMILES ``str``; :class:`CrystalText`; pymatgen structure ``dict`` or ``Structure``;
            or a :class:`FeaturizationError` when the item could not even be read.
        targets: Target values, NaN = missing.
    """

    row_id: int
    item_id: str
    payload: object
    targets: tuple[float, ...]


def parse_target(value: Any, column: str, row_id: int) -> float:
    """One target cell -> float (blank / NaN markers -> NaN); raises :class:`FeaturizationError` otherwise."""
    if value is None:
        return math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        out, shown = float(value), str(float(value))
    else:
        text = str(value).strip()
        if text.lower() in _MISSING:
            return math.nan
        try:
            out = float(text)
        except ValueError:
            raise FeaturizationError(f"non-numeric target {printable(text[:40])!r} in column {column!r}",
                                     row_id) from None
        shown = repr(text[:40])
    if math.isinf(out):
        raise FeaturizationError(f"non-finite target {shown} in column {column!r}", row_id)
    return out  # a NaN ("nan", "-nan", float nan) is missing, as the markers above
