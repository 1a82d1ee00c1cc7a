"""Bad inputs of the issue's acceptance test, by 0-based data row of the 1,005-row test CSV."""

from __future__ import annotations

BAD_ROWS = {
    0: "",
    250: "C1CC",
    500: "[Xx]",
    750: "C(C)(C)(C)(C)C",
    1003: "C" * 500,
}
