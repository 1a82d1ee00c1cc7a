"""Graph-level fine-tuning: ``finetune(cfg: FinetuneConfig) -> FinetuneResult``.

Modules: ``config`` (FinetuneConfig), ``train`` (the loop, one model per seed, one bundle),
``model`` (encoder → read-out → head), ``loss`` (NaN-masked losses, target scaler), ``metrics``
(ROC/PR-AUC, RMSE/MAE/R²), ``evaluate`` (batch inference over dataset indices), ``plots``,
``data`` (dataset resolution, targets, splits), ``infer`` / ``stream`` (screening-scale inference
used by :mod:`harmony_mol.predict`).
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "FinetuneConfig": ("harmony_mol.finetune.config", "FinetuneConfig"),
    "FinetuneResult": ("harmony_mol.finetune.train", "FinetuneResult"),
    "finetune": ("harmony_mol.finetune.train", "finetune"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'harmony_mol.finetune' has no attribute {name!r}")


__all__ = list(_LAZY)
