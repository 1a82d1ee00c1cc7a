"""Fine-tuning inputs: resolve the dataset (featurizing raw input if needed), pick targets, split."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from harmony_mol.finetune.config import FinetuneConfig, FinetuneSplitConfig

logger = logging.getLogger(__name__)


def resolve_dataset(cfg: FinetuneConfig, spec: dict[str, Any] | None) -> Any:
    """Open ``cfg.data.input`` as a :class:`GraphDataset`, featurizing raw input first.

    Raw input is featurized with ``spec``, the pretrained checkpoint's featurizer spec (dict), so the
    encoder sees the features it was trained on (``None``: with ``cfg.data.preset``).

    Raises:
        ValueError: the dataset was featurized with a spec other than ``spec``.
    """
    from harmony_mol.data.store import load_dataset

    src = cfg.data.input
    if (Path(src) / "manifest.json").is_file():
        ds = load_dataset(src)
    else:
        from harmony_mol.data.build import build_dataset, cache_key
        from harmony_mol.data.config import FeaturizeConfig

        d = cfg.data
        kw: dict[str, Any] = {
            "inputs": (str(src),), "kind": d.kind, "preset": d.preset, "smiles_column": d.smiles_column,
            "cif_column": d.cif_column, "target_columns": d.target_columns, "workers": d.workers, "dedupe": d.dedupe,
        }
        if spec is not None:
            kw.update(kind=spec["kind"], preset=spec["preset"])
            opts = spec.get("options", {})
            for name in ("max_atoms", "cutoff", "max_neighbors", "n_gaussians", "max_volume_per_atom"):
                if opts.get(name) is not None:
                    kw[name] = opts[name]
        stem = Path(str(src).rstrip("/")).name.split(".")[0] or "input"
        _, _, made = cache_key(FeaturizeConfig(**kw, output=Path(cfg.data.cache_dir) / stem))
        kw["output"] = Path(cfg.data.cache_dir) / f"{stem}-{made.preset}-{made.key()[:8]}"
        info = build_dataset(FeaturizeConfig(**kw))
        logger.info("fine-tuning data: %s (%d graphs, %d rejected rows listed in %s)",
                    info.path, info.n_graphs, info.n_rejected, info.rejected_path)
        ds = load_dataset(info.path)
    if spec is not None:
        from featurizers.schema import FeaturizerSpec

        want = FeaturizerSpec.from_dict(spec)
        if ds.spec.key() != want.key():
            raise ValueError(f"dataset {src} was featurized with spec {ds.spec.to_dict()} but the pretrained "
                             f"encoder expects {want.to_dict()}; re-featurize the raw input (pass the CSV/CIF "
                             "set instead)")
    return ds


def select_targets(target_names: list[str], wanted: tuple[str, ...] | None) -> list[int]:
    """Column indices of ``wanted`` in ``target_names`` (all when ``None``)."""
    if not target_names:
        raise ValueError("the dataset has no target columns; featurize it with target_columns set")
    if wanted is None:
        return list(range(len(target_names)))
    missing = [w for w in wanted if w not in target_names]
    if missing:
        raise ValueError(f"target column(s) {missing} not in the dataset; it has {target_names}")
    return [target_names.index(w) for w in wanted]


def kfold_split(n: int, n_folds: int, fold: int, seed: int) -> tuple[list[int], list[int], list[int]]:
    """Seeded k-fold: fold ``fold`` is test, fold ``fold+1`` validation, the rest train."""
    if n_folds < 3:
        raise ValueError("kfold needs n_folds >= 3 (train / valid / test folds)")
    folds = np.array_split(np.random.default_rng(seed).permutation(n), n_folds)
    valid_fold = (fold + 1) % n_folds
    train = sorted(np.concatenate([f for i, f in enumerate(folds) if i not in (fold, valid_fold)]).tolist())
    return train, sorted(folds[valid_fold].tolist()), sorted(folds[fold].tolist())


def make_split(split_cfg: FinetuneSplitConfig, dataset: Any, seed: int) -> dict[str, list[int]]:
    """Dataset indices of train / valid / test for one replicate.

    Scaffold splits are deterministic (``seed`` is unused); random and k-fold splits use ``seed``
    when ``vary_with_seed`` (else ``split_seed``). Crystals never get here with ``scaffold``:
    :func:`~harmony_mol.finetune.outputs.resolve_split_method` has made it ``random``.
    """
    from harmony_mol.data import splits as S

    s = seed if split_cfg.vary_with_seed else split_cfg.split_seed
    method = split_cfg.method
    if method == "kfold":
        out = kfold_split(len(dataset), split_cfg.n_folds, split_cfg.fold, s)
    else:
        if method == "file":
            sp = S.load_split(split_cfg.file, dataset)
        elif method == "scaffold":
            sp = S.scaffold_split(dataset.inputs, tuple(split_cfg.fractions))
        else:
            sp = S.random_split(len(dataset), tuple(split_cfg.fractions), s)
        out = (sp.train, sp.valid, sp.test)
    split = {name: [int(i) for i in part] for name, part in zip(("train", "valid", "test"), out)}
    for name in ("train", "valid"):
        if not split[name]:
            raise ValueError(f"the {method} split left no {name} graphs ({len(dataset)} graphs in all)")
    return split
