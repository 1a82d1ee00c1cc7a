"""Graph-level fine-tuning: ``finetune(cfg: FinetuneConfig) -> FinetuneResult``.

Modules: ``config``, ``train`` (the loop, one model per seed, one bundle), ``loss``, ``metrics``, ``evaluate``
(batch inference over dataset indices), ``data`` (dataset, targets, splits), ``outputs`` and ``plots``.
"""

from __future__ import annotations

from harmony_mol.utils.imports import lazy_attributes

__getattr__ = lazy_attributes(__name__, {
    "FinetuneConfig": "harmony_mol.finetune.config",
    "FinetuneResult": "harmony_mol.finetune.train",
    "finetune": "harmony_mol.finetune.train",
})
