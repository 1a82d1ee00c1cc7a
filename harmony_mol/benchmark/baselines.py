"""Non-neural baselines on the suites' splits, with scikit-learn.

ECFP4 + random forest (molecules) and composition features + random forest (crystals).

Multi-task classification with missing labels trains one forest per task on that task's labelled
training rows (a task with a single class in its training rows predicts that class' prior).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch


def ecfp_features(smiles: Sequence[str], radius: int = 2, n_bits: int = 2048) -> np.ndarray:
    """ECFP4 bit vectors (Morgan radius 2, 2048 bits) with RDKit's generator.

    Shapes:
        - output: ``[len(smiles), n_bits]`` uint8 (an unparseable SMILES gives an all-zero row).
    """
    from rdkit import Chem, DataStructs, rdBase
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    out = np.zeros((len(smiles), n_bits), dtype=np.uint8)
    with rdBase.BlockLogs():  # restores the previous log state (the featurizer may have turned it off)
        for i, smi in enumerate(smiles):
            mol = Chem.MolFromSmiles(smi) if smi else None
            if mol is not None:
                DataStructs.ConvertToNumpyArray(gen.GetFingerprint(mol), out[i])
    return out


def composition_features(tensors: dict[str, torch.Tensor]) -> np.ndarray:
    """Composition features of crystal graphs (a Magpie-style descriptor computed from the graph records).

    Element fractions plus the mean / std / min / max of the per-atom element properties.

    Shapes:
        - tensors: ``GraphDataset.tensors()`` of a crystal dataset (``x[:, 0]`` = element index,
          ``x_feat`` = element properties, ``node_ptr [G+1]``)
        - output: ``[G, n_elements + 4 * n_props]`` float32
    """
    x = tensors["x"][:, 0].long()
    props = tensors["x_feat"].float() if "x_feat" in tensors else torch.zeros(len(x), 0)
    ptr = tensors["node_ptr"].long()
    g = len(ptr) - 1
    counts = (ptr[1:] - ptr[:-1]).clamp(min=1)
    graph = torch.repeat_interleave(torch.arange(g), ptr[1:] - ptr[:-1])
    n_el = int(x.max()) + 1 if len(x) else 1
    frac = torch.zeros(g, n_el).index_put_((graph, x), torch.ones(len(x)), accumulate=True) / counts[:, None]
    p = props.shape[1]
    mean = torch.zeros(g, p).index_add_(0, graph, props) / counts[:, None]
    sq = torch.zeros(g, p).index_add_(0, graph, props * props) / counts[:, None]
    std = (sq - mean * mean).clamp(min=0).sqrt()
    mn = torch.full((g, p), float("inf")).scatter_reduce(0, graph[:, None].expand(-1, p), props, "amin")
    mx = torch.full((g, p), float("-inf")).scatter_reduce(0, graph[:, None].expand(-1, p), props, "amax")
    return torch.cat([frac, mean, std, mn, mx], 1).numpy().astype(np.float32)


def random_forest(X: np.ndarray, y: np.ndarray, split: dict[str, list[int]], task_type: str, trees: int,
                  seed: int, n_jobs: int = -1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Fit on ``split["train"]``, predict ``valid`` and ``test``.

    Args:
        X: ``[G, F]`` features.
        y: ``[G, T]`` labels (NaN = missing).
        split: Dataset indices per part.
        task_type: ``classification`` (scores = P(class 1)) or ``regression``.
        trees: Trees per forest.
        seed: ``random_state``.
        n_jobs: scikit-learn jobs (-1 = all cores).

    Returns:
        ``{part: (y_true [n, T], y_pred [n, T])}`` for ``valid`` and ``test``.
    """
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    tr = np.asarray(split["train"], dtype=np.int64)
    parts = {k: np.asarray(split[k], dtype=np.int64) for k in ("valid", "test") if split.get(k)}
    preds = {k: np.full((len(v), y.shape[1]), np.nan) for k, v in parts.items()}
    for t in range(y.shape[1]):
        keep = tr[~np.isnan(y[tr, t])]
        if len(keep) == 0:
            continue
        yt = y[keep, t]
        if task_type == "classification":
            classes = np.unique(yt)
            if len(classes) < 2:
                for k in parts:
                    preds[k][:, t] = float(classes[0])
                continue
            model: Any = RandomForestClassifier(n_estimators=trees, random_state=seed, n_jobs=n_jobs)
            model.fit(X[keep], yt.astype(int))
            pos = list(model.classes_).index(1)
            for k, idx in parts.items():
                preds[k][:, t] = model.predict_proba(X[idx])[:, pos]
        else:
            model = RandomForestRegressor(n_estimators=trees, random_state=seed, n_jobs=n_jobs)
            model.fit(X[keep], yt)
            for k, idx in parts.items():
                preds[k][:, t] = model.predict(X[idx])
    return {k: (y[idx], preds[k]) for k, idx in parts.items()}
