"""The suites' splits as dataset indices: scaffold / random (molecules), Matbench folds, Perov-5's files."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

MATBENCH_SEED = 18012019


def molecule_split(ds: Any, method: str, seed: int) -> dict[str, list[int]]:
    """Deterministic scaffold split 80/10/10 (seed unused) or a seeded random split."""
    from harmony_mol.data import splits as S

    sp = S.make_split(ds, method, (0.8, 0.1, 0.1), seed)
    return {"train": sp.train, "valid": sp.valid, "test": sp.test}


def matbench_split(ds: Any, fold: int, seed: int, valid_fraction: float = 0.1) -> dict[str, list[int]]:
    """Matbench fold ``fold``; validation = a ``seed``-ed ``valid_fraction`` of the training fold.

    The folds are KFold(5, shuffle, random_state 18012019) over the input rows, so a rejected structure does not
    shift them.
    """
    from harmony_mol.data.splits import kfold_splits

    n_rows = int(ds.manifest["counts"]["rows"])
    pos = {r: i for i, r in enumerate(ds.row_ids)}
    sp = kfold_splits(n_rows, 5, MATBENCH_SEED)[fold]
    train = [pos[r] for r in sp.train if r in pos]
    test = [pos[r] for r in sp.test if r in pos]
    perm = np.random.default_rng(seed).permutation(len(train))
    n_val = max(1, int(round(valid_fraction * len(train))))
    valid = sorted(train[i] for i in perm[:n_val])
    train = sorted(train[i] for i in perm[n_val:])
    return {"train": train, "valid": valid, "test": sorted(test)}


def by_input_file(ds: Any) -> dict[str, list[int]]:
    """Perov-5: graphs from the 1st input file train, the 2nd validate, the 3rd test (``perov5`` group order)."""
    recs = ds.manifest["inputs"]
    if len(recs) != 3:
        raise ValueError(f"expected 3 input files (train, val, test), the dataset has {len(recs)}")
    bounds = [(int(r["row_offset"]), int(r["row_offset"]) + int(r["n_rows"])) for r in recs]
    out: dict[str, list[int]] = {"train": [], "valid": [], "test": []}
    for i, rid in enumerate(ds.row_ids):
        for part, (a, b) in zip(("train", "valid", "test"), bounds):
            if a <= rid < b:
                out[part].append(i)
    return out


def subsample(split: dict[str, list[int]], max_rows: int, seed: int) -> dict[str, list[int]]:
    """Shrink every part in proportion so the total is at most ``max_rows`` (``--quick``)."""
    total = sum(len(v) for v in split.values())
    if max_rows <= 0 or total <= max_rows:
        return split
    rng = np.random.default_rng(seed)
    out = {}
    for k, v in split.items():
        n = max(2, int(len(v) * max_rows / total))
        out[k] = sorted(np.asarray(v)[rng.permutation(len(v))[:n]].tolist()) if len(v) > n else list(v)
    return out


def split_hash(split: dict[str, list[int]]) -> str:
    """Short hash of the exact indices (proves two models saw the same split)."""
    h = hashlib.sha256()
    for k in ("train", "valid", "test"):
        h.update(k.encode() + b":" + ",".join(map(str, split[k])).encode() + b";")
    return h.hexdigest()[:12]
