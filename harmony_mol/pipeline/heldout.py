"""The predict stage's held-out input: the fine-tuning test rows, which no model stage trained on or selected with."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from featurizers.crystal_readers import resolve_structure_file
from harmony_mol.utils.io import atomic_directory, atomic_open

#: Marker file of a complete held-out structure folder.
HELDOUT_MARKER = "heldout.json"


def write_heldout(run_dir: str | Path, inputs: list[str], kind: str, root: str | Path) -> Path:
    """Write the fine-tuning test rows (first seed) as the predict stage's input; returns its path.

    Molecules: ``<root>/heldout.csv`` (``id, smiles, <target>...``). Crystals read from one structure
    folder: ``<root>/heldout/`` with the test structures' files and an ``id_prop.csv`` of their measured
    values (so predict keeps them beside the predictions).

    Args:
        run_dir: The fine-tuning run directory (holds ``test_predictions.csv``).
        inputs: The featurize stage's inputs (crystals: the one structure folder to copy files from).
        kind: ``molecule`` or ``crystal``.
        root: The variant's run root.

    Raises:
        ValueError: no ``test_predictions.csv`` in ``run_dir``, an empty test split, or crystals that did
            not come from one structure folder.
    """
    src = Path(run_dir) / "test_predictions.csv"
    if not src.is_file():
        raise ValueError(f"{src}: not found; the fine-tuning run wrote no test predictions")
    tp = pd.read_csv(src, dtype={"id": str, "input": str}, keep_default_na=False, na_values=[""])
    if tp.empty:
        raise ValueError(f"{src}: the test split is empty; nothing is held out to predict")
    tp = tp[tp["seed"] == tp["seed"].iloc[0]]
    truths = [c for c in tp.columns if c not in ("seed", "row_id", "id", "input") and not c.endswith("_pred")]
    root = Path(root)
    if kind == "molecule":
        out = root / "heldout.csv"
        df = pd.DataFrame({"id": tp["id"], "smiles": tp["input"], **{c: tp[c] for c in truths}})
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(out, "w", encoding="utf-8", newline="") as fh:
            df.to_csv(fh, index=False)
        return out
    folders = [Path(p) for p in inputs]
    if len(folders) != 1 or not folders[0].is_dir():
        raise ValueError(f"predict_heldout for crystals needs one structure folder as input, got {inputs}")
    out = root / "heldout"
    with atomic_directory(out, marker=HELDOUT_MARKER) as tmp:
        rows = []
        for item_id, *ys in zip(tp["id"], *(tp[c] for c in truths)):
            f = resolve_structure_file(folders[0], str(item_id))
            if f is None:
                raise ValueError(f"{folders[0]}: no structure file for held-out id {item_id!r}")
            shutil.copy2(f, tmp / f.name)
            rows.append([f.name, *ys])
        pd.DataFrame(rows).to_csv(tmp / "id_prop.csv", header=False, index=False)
        (tmp / HELDOUT_MARKER).write_text(json.dumps({"from": str(src), "n": len(rows)}) + "\n")
    return out
