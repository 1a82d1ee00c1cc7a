"""Per-row featurization errors and the columns of ``rejected.csv``."""

from __future__ import annotations

#: Columns of ``rejected.csv``: ``row`` is the 1-based data row (header excluded, as a spreadsheet shows
#: it), ``row_id`` the 0-based index used everywhere in code.
REJECTED_COLUMNS = ["row", "row_id", "id", "input", "reason"]


class FeaturizationError(ValueError):
    """One input item could not be turned into a graph.

    Args:
        reason: Human-readable cause, e.g. RDKit's own sanitization message or
            ``"disordered site(s): 3 partially occupied"``.
        row_id: 0-based index of the item in its input (set by the batch layer if unknown here).
        source: The input itself (SMILES string, file name, structure id), truncated for display.
    """

    def __init__(self, reason: str, row_id: int | None = None, source: str | None = None) -> None:
        self.reason = reason
        self.row_id = row_id
        self.source = source
        where = f"row {row_id + 1}" if row_id is not None else "input"
        what = f" ({_short(source)})" if source else ""
        super().__init__(f"{where}{what}: {reason}")


def _short(text: str, limit: int = 80) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."
