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
    """The same-crystal pairs between collections ``a`` and ``b``.

    Args:
        pairs: ``(id in a, id in b)`` for every confirmed match, in ``a``'s order.
        n_a / n_b: Sizes of the two collections.
        n_compared: Candidate pairs handed to the matcher.
    """

    pairs: tuple[tuple[str, str], ...]
    n_a: int
    n_b: int
    n_compared: int

    @property
    def a_ids(self) -> set[str]:
        """Ids of ``a`` with at least one match in ``b``."""
        return {a for a, _ in self.pairs}

    @property
    def b_ids(self) -> set[str]:
        """Ids of ``b`` with at least one match in ``a``."""
        return {b for _, b in self.pairs}

    def counts(self) -> dict[str, int]:
        """Sizes, matched structures on each side, matched pairs and matcher calls."""
        return {"n_a": self.n_a, "n_b": self.n_b, "a_in_b": len(self.a_ids), "b_in_a": len(self.b_ids),
                "pairs": len(self.pairs), "compared": self.n_compared}


def _matcher() -> Any:
    from pymatgen.analysis.structure_matcher import StructureMatcher

    return StructureMatcher()


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
    matcher = matcher or _matcher()
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
    logger.info("overlap: %d of %d structures match %d of %d (%d pairs compared)", len({p[0] for p in pairs}),
                len(a), len({p[1] for p in pairs}), len(b), compared)
    return Overlap(tuple(pairs), len(a), len(b), compared)


def leak_free(corpus: Sequence[Entry], test: Sequence[Entry], matcher: Any = None,
              volume_tol: float = 0.1) -> list[Entry]:
    """``corpus`` without the structures that match any ``test`` structure (same matcher as :func:`find_overlap`).

    Args:
        corpus: The pretraining corpus, ``(id, Structure)`` pairs.
        test: The scored structures.
        matcher: As in :func:`find_overlap`.
        volume_tol: As in :func:`find_overlap`.

    Returns:
        The kept entries, in corpus order.
    """
    drop = find_overlap(corpus, test, matcher, volume_tol).a_ids
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
    from featurizers.errors import FeaturizationError
    from featurizers.readers import read_items
    from featurizers.structures import CrystalText, structure_from_dict, structure_from_text
    from harmony_mol.data.registry import resolve

    out: list[Entry] = []
    for inp in resolve(name_or_path, root):
        _, items = read_items(inp.path, "crystal", id_column=inp.id_column, cif_column=inp.cif_column)
        for it in items:
            p = it.payload
            try:
                if isinstance(p, FeaturizationError):
                    raise p
                if isinstance(p, CrystalText):
                    p = structure_from_text(p.fmt, p.text, it.row_id, it.item_id)
                elif isinstance(p, dict):
                    p = structure_from_dict(p, it.row_id, it.item_id)
                out.append((it.item_id, p))
            except FeaturizationError as exc:
                logger.warning("%s: skipped %s: %s", inp.path.name, it.item_id, exc)
    return out

