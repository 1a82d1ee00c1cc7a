"""Dataset splits: random, scaffold (Bemis-Murcko), k-fold, and split files keyed by row id.

Scaffold split (default, ``balanced=False``): molecules are grouped by their Bemis-Murcko scaffold
(RDKit ``MurckoScaffoldSmiles``, ``includeChirality=False``); groups are sorted by size (largest
first), ties broken by the scaffold string, and filled greedily into train, then valid, then test.
This is the ordering of Hu et al. (pretrain-gnns) and DeepChem's ``ScaffoldSplitter`` (which breaks
ties by first index instead and ignores seeds), so it is fully deterministic. ``balanced=True`` is
chemprop's variant: groups larger than half the test size go to train first, the rest in a seeded
random order. Unparseable SMILES each form their own group.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harmony_mol.utils.io import atomic_write_json

logger = logging.getLogger(__name__)

SPLIT_FORMAT = "harmony-split/1"


@dataclass(frozen=True)
class Split:
    """Dataset indices of each part (sorted ascending)."""

    train: list[int]
    valid: list[int]
    test: list[int]
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def sizes(self) -> tuple[int, int, int]:
        """``(len(train), len(valid), len(test))``."""
        return len(self.train), len(self.valid), len(self.test)


def _check_fracs(fracs: Sequence[float]) -> tuple[float, float, float]:
    if len(fracs) != 3 or any(f < 0 for f in fracs) or abs(sum(fracs) - 1.0) > 1e-6:
        raise ValueError(f"fracs must be three non-negative numbers summing to 1, got {tuple(fracs)}")
    return float(fracs[0]), float(fracs[1]), float(fracs[2])


def random_split(n: int, fracs: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> Split:
    """Seeded random split of ``range(n)`` (train gets ``int(f_train*n)``, valid ``int((f_tr+f_va)*n)-...``)."""
    f_tr, f_va, _ = _check_fracs(fracs)
    perm = np.random.default_rng(seed).permutation(n)
    a, b = int(f_tr * n), int((f_tr + f_va) * n)
    return Split(sorted(perm[:a].tolist()), sorted(perm[a:b].tolist()), sorted(perm[b:].tolist()),
                 meta={"method": "random", "fracs": [*fracs], "seed": seed})


def murcko_scaffold(smiles: str) -> str | None:
    """Bemis-Murcko scaffold SMILES, or ``None`` if RDKit cannot parse ``smiles``."""
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    mol = Chem.MolFromSmiles(smiles) if smiles else None
    if mol is None:
        return None
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)


def scaffold_split(smiles_list: Sequence[str], fracs: Sequence[float] = (0.8, 0.1, 0.1), balanced: bool = False,
                   seed: int = 0) -> Split:
    """Deterministic scaffold split (see module docstring); no scaffold ends up in two parts."""
    from rdkit import rdBase

    f_tr, f_va, f_te = _check_fracs(fracs)
    groups: dict[str, list[int]] = {}
    with rdBase.BlockLogs():  # restores the previous log state on exit
        for i, smi in enumerate(smiles_list):
            scaf = murcko_scaffold(smi)
            key = scaf if scaf is not None else f"<unparseable:{i}>"
            groups.setdefault(key, []).append(i)
    n = len(smiles_list)
    train_cut, valid_cut = f_tr * n, (f_tr + f_va) * n
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    if balanced:
        big = [g for g in ordered if len(g[1]) > f_va * n / 2 or len(g[1]) > f_te * n / 2]
        small = sorted((g for g in ordered if g not in big), key=lambda kv: kv[0])
        ordered = big + [small[i] for i in np.random.default_rng(seed).permutation(len(small))]
    train, valid, test = [], [], []
    for _, idx in ordered:
        if len(train) + len(idx) <= train_cut:
            train += idx
        elif len(train) + len(valid) + len(idx) <= valid_cut:
            valid += idx
        else:
            test += idx
    meta = {"method": "scaffold_balanced" if balanced else "scaffold", "fracs": [*fracs],
            "n_scaffolds": len(groups), **({"seed": seed} if balanced else {})}
    return Split(sorted(train), sorted(valid), sorted(test), meta=meta)


def kfold_splits(n: int, k: int = 5, seed: int = 18012019) -> list[Split]:
    """Matbench's protocol: sklearn ``KFold(k, shuffle=True, random_state=seed)``; ``valid`` is empty."""
    from sklearn.model_selection import KFold

    kf = KFold(n_splits=k, shuffle=True, random_state=seed)
    return [Split(sorted(tr.tolist()), [], sorted(te.tolist()),
                  meta={"method": "kfold", "fold": i, "k": k, "seed": seed})
            for i, (tr, te) in enumerate(kf.split(np.arange(n)))]


def make_split(dataset: Any, method: str = "scaffold", fracs: Sequence[float] = (0.8, 0.1, 0.1),
               seed: int = 0) -> Split:
    """Split a ``GraphDataset`` by ``random``, ``scaffold`` or ``scaffold_balanced`` (uses its SMILES)."""
    if method == "random":
        return random_split(len(dataset), fracs, seed)
    if method in ("scaffold", "scaffold_balanced"):
        if dataset.spec.kind != "molecule":
            raise ValueError("scaffold splits need molecules; use random or kfold for crystals")
        return scaffold_split(dataset.inputs, fracs, balanced=method == "scaffold_balanced", seed=seed)
    raise ValueError(f"unknown split method {method!r} (random, scaffold, scaffold_balanced)")


def save_split(split: Split, path: str | Path, row_ids: Sequence[int]) -> None:
    """Write ``split`` as JSON of input row ids (robust to re-featurization)."""
    rid = list(row_ids)
    atomic_write_json(path, {"format": SPLIT_FORMAT, "meta": split.meta,
                             "train": [rid[i] for i in split.train], "valid": [rid[i] for i in split.valid],
                             "test": [rid[i] for i in split.test]})


def load_split(path: str | Path, dataset: Any) -> Split:
    """Read a split file and map its row ids to indices of ``dataset``.

    Rows now missing (rejected by the featurizer, or removed) are dropped and logged; their number per part
    is in ``meta["dropped"]``.

    Raises:
        ValueError: not a ``harmony-split/1`` file, or a part is missing.
    """
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a split file ({exc})") from None
    fmt = obj.get("format") if isinstance(obj, dict) else None
    if fmt != SPLIT_FORMAT:
        raise ValueError(f"{path}: not a split file (format {fmt!r}, expected {SPLIT_FORMAT})")
    absent = [name for name in ("train", "valid", "test") if not isinstance(obj.get(name), list)]
    if absent:
        raise ValueError(f"{path}: split file lacks the list(s) {absent} of 0-based data-row ids")
    pos = {r: i for i, r in enumerate(dataset.row_ids)}
    parts, dropped = [], {}
    for name in ("train", "valid", "test"):
        idx = [pos[r] for r in obj[name] if r in pos]
        dropped[name] = len(obj[name]) - len(idx)
        parts.append(sorted(idx))
    if any(dropped.values()):
        logger.warning("%s: %d row ids of the split are not in %s (rejected or removed); dropped "
                       "(train %d, valid %d, test %d)", path, sum(dropped.values()),
                       getattr(dataset, "path", "the dataset"), dropped["train"], dropped["valid"], dropped["test"])
    return Split(*parts, meta={**dict(obj.get("meta", {})), "dropped": dropped})
