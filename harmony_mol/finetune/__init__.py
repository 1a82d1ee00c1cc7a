"""Graph-level fine-tuning: ``finetune(cfg: FinetuneConfig) -> FinetuneResult``.

Modules: ``config``, ``train`` (the loop, one model per seed, one bundle), ``loss``, ``metrics``, ``evaluate``
(batch inference over dataset indices), ``data`` (dataset, targets, splits), ``outputs`` and ``plots``.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"FinetuneConfig": "harmony_mol.finetune.config", "FinetuneResult": "harmony_mol.finetune.train",
         "finetune": "harmony_mol.finetune.train"}


def __getattr__(name: str) -> Any:
    """Import the public names on first use, so ``import harmony_mol.finetune`` stays cheap."""
    if name not in _LAZY:
        raise AttributeError(f"module 'harmony_mol.finetune' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = list(_LAZY)
