"""Leak checks for crystal pretraining: which structures of one collection are also in another.

Candidates share a reduced composition and a volume per atom within ``volume_tol``; only those pairs go
to pymatgen's ``StructureMatcher`` (default tolerances), so 18,928 x 8,596 structures take minutes, not days.
"""

from __future__ import annotations

import bisect
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: An id and its pymatgen ``Structure``.
Entry = tuple[str, Any]


@dataclass(frozen=True)
class Overlap:
    """The same-crystal ``pairs`` ``(id in a, id in b)`` of collections of sizes ``n_a``, ``n_b``, in ``a``'s order."""

    pairs: tuple[tuple[str, str], ...]
    n_a: int
    n_b: int
    n_compared: int  # candidate pairs handed to the matcher

    def counts(self) -> dict[str, int]:
        """Sizes, matched structures on each side, matched pairs and matcher calls."""
        return {"n_a": self.n_a, "n_b": self.n_b, "a_in_b": len({a for a, _ in self.pairs}),
                "b_in_a": len({b for _, b in self.pairs}), "pairs": len(self.pairs), "compared": self.n_compared}


def find_overlap(a: Sequence[Entry], b: Sequence[Entry], matcher: Any = None, volume_tol: float = 0.1) -> Overlap:
    """Pairs of ``a`` and ``b`` that are the same crystal.

    Args:
        a: ``(id, Structure)`` pairs.
        b: ``(id, Structure)`` pairs.
        matcher: Anything with ``fit(s1, s2) -> bool``; default ``StructureMatcher()`` (ltol 0.2, stol 0.3,
            angle_tol 5, volumes scaled before comparing).
        volume_tol: Pairs whose volumes per atom differ by a factor over ``1 + volume_tol`` are not compared (the
            matcher scales volumes, so without this a uniformly expanded copy would count as the same crystal).

    Returns:
        The confirmed pairs and the counts.
    """
    if matcher is None:
        from pymatgen.analysis.structure_matcher import StructureMatcher

        matcher = StructureMatcher()
    index: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for j, (_, s) in enumerate(b):
        index[s.composition.reduced_formula].append((s.volume / len(s), j))
    for group in index.values():
        group.sort()
    pairs, compared = [], 0
    for id_a, s in a:
        group = index.get(s.composition.reduced_formula, [])
        v = s.volume / len(s)
        lo = bisect.bisect_left(group, (v / (1 + volume_tol), -1))
        hi = bisect.bisect_right(group, (v * (1 + volume_tol), len(b)))
        for _, j in group[lo:hi]:
            compared += 1
            if matcher.fit(s, b[j][1]):
                pairs.append((id_a, b[j][0]))
    ov = Overlap(tuple(pairs), len(a), len(b), compared)
    logger.info("overlap: %s", ov.counts())
    return ov


def leak_free(corpus: Sequence[Entry], test: Sequence[Entry], matcher: Any = None,
              volume_tol: float = 0.1) -> list[Entry]:
    """``corpus`` (in order) without the structures that match a ``test`` one (matching as :func:`find_overlap`)."""
    drop = {a for a, _ in find_overlap(corpus, test, matcher, volume_tol).pairs}
    logger.info("leak-free corpus: dropped %d of %d structures", len(drop), len(corpus))
    return [e for e in corpus if e[0] not in drop]


def load_structures(name_or_path: str | Path, root: str | Path | None = None) -> list[Entry]:
    """``(id, Structure)`` of a registry dataset or crystal file, read like the featurizer reads it.

    Args:
        name_or_path: A :data:`~harmony_mol.data.registry.DATASETS` name (``perov5-test``) or a path.
        root: Data directory (default :func:`~harmony_mol.data.registry.data_dir`).

    Returns:
        The readable structures; unreadable ones are logged and skipped.
    """
    from featurizers.dispatch import to_structure
    from featurizers.errors import FeaturizationError
    from featurizers.readers import read_items
    from harmony_mol.data.registry import resolve

    out: list[Entry] = []
    for inp in resolve(name_or_path, root):
        _, items = read_items(inp.path, "crystal", id_column=inp.id_column, cif_column=inp.cif_column)
        for it in items:
            try:
                if isinstance(it.payload, FeaturizationError):
                    raise it.payload
                out.append((it.item_id, to_structure(it.payload, it.row_id, it.item_id)))
            except FeaturizationError as exc:
                logger.warning("%s: skipped %s: %s", inp.path.name, it.item_id, exc)
    return out
