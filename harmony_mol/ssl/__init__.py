"""Self-supervised pretraining: masking, EMA teacher, latent-prediction objective and the loop."""

from __future__ import annotations

from harmony_mol.ssl.config import MaskingConfig, ObjectiveConfig, OptimConfig, PretrainConfig

__all__ = ["MaskingConfig", "ObjectiveConfig", "OptimConfig", "PretrainConfig"]
