"""Element property table for crystal node features (Z = 1..103), shipped as a generated resource.

The raw values come from pymatgen's ``Element`` data and are frozen in
``featurizers/resources/elements.json`` so that a pymatgen upgrade cannot silently change features.
Regenerate (and bump ``FEATURIZER_VERSION``) with ``python -m featurizers.elements``.

Continuous properties are standardised over the elements that have a value; a missing value becomes 0
plus a 1 in that property's missing flag. Block (s/p/d/f) is one-hot. Z outside 1..103 gives zeros
with every missing flag set.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

RESOURCE = Path(__file__).with_name("resources") / "elements.json"
MAX_Z = 103

#: Continuous properties (pymatgen ``Element`` attribute names).
PROPERTIES: tuple[str, ...] = (
    "X", "atomic_radius", "row", "group", "atomic_mass", "ionization_energy", "electron_affinity", "mendeleev_no",
    "molar_volume",
)
BLOCKS: tuple[str, ...] = ("s", "p", "d", "f")

#: Names of the ``x_feat`` columns of a crystal record, in order.
FEATURE_NAMES: tuple[str, ...] = (*(f"{p}_std" for p in PROPERTIES), *(f"block_{b}" for b in BLOCKS),
                                  *(f"{p}_missing" for p in PROPERTIES))


def build_raw_table() -> dict[str, object]:
    """Read the raw element properties from pymatgen (development-time helper)."""
    from pymatgen.core.periodic_table import Element

    rows: dict[str, dict[str, object]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for z in range(1, MAX_Z + 1):
            el = Element.from_Z(z)
            row: dict[str, object] = {"symbol": el.symbol, "block": el.block}
            for prop in PROPERTIES:
                try:
                    val = float(getattr(el, prop))
                except Exception:  # noqa: BLE001 - pymatgen raises for unknown data (float(None) too)
                    val = math.nan
                row[prop] = val if math.isfinite(val) else None
            rows[str(z)] = row
    import pymatgen.core

    return {"source": f"pymatgen {pymatgen.core.__version__} Element data", "elements": rows}


@lru_cache(maxsize=1)
def element_feature_table() -> np.ndarray:
    """Feature rows for Z = 0..119 (row Z); see :data:`FEATURE_NAMES`.

    Shapes:
        output: ``[120, len(FEATURE_NAMES)]`` float32.
    """
    raw = json.loads(RESOURCE.read_text())["elements"]
    vals = np.full((120, len(PROPERTIES)), np.nan, dtype=np.float64)
    block = np.zeros((120, len(BLOCKS)), dtype=np.float64)
    for key, row in raw.items():
        z = int(key)
        for j, prop in enumerate(PROPERTIES):
            if row.get(prop) is not None:
                vals[z, j] = float(row[prop])
        if row.get("block") in BLOCKS:
            block[z, BLOCKS.index(row["block"])] = 1.0
    missing = np.isnan(vals)
    mean = np.nanmean(vals, axis=0)
    std = np.nanstd(vals, axis=0)
    std[std == 0] = 1.0
    standard = np.where(missing, 0.0, (vals - mean) / std)
    return np.concatenate([standard, block, missing.astype(np.float64)], axis=1).astype(np.float32)


if __name__ == "__main__":  # pragma: no cover
    tmp = RESOURCE.with_suffix(".tmp")
    tmp.write_text(json.dumps(build_raw_table(), indent=1, sort_keys=True))
    tmp.replace(RESOURCE)
    logging.basicConfig(level=logging.INFO)
    logger.info("wrote %s", RESOURCE)
