"""Pure torch/PyG model modules: the HarmonyGNN encoder and its parts (input dims are passed in)."""

from __future__ import annotations

from harmony_mol.nn.encoder import HarmonyEncoder
from harmony_mol.nn.encoder_config import HarmonyEncoderConfig
from harmony_mol.nn.inputs import InputDims

__all__ = ["HarmonyEncoder", "HarmonyEncoderConfig", "InputDims"]
