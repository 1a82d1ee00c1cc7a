"""The encoder registry: each ``arch`` tag names a config dataclass and the module it builds.

:data:`EncoderConfig` is the union of the registered configs, tagged by their ``arch`` field, so a config
file with a wrong key or value fails when it is loaded. Checkpoints and bundles store it as a plain dict
(HarmonyGNN dicts written before the tag have no ``arch``: :data:`DEFAULT_ARCH`). Another encoder is a
config with ``arch: Literal["name"] = "name"``, a module taking ``(cfg, dims)``, a member of the union and an
entry of :data:`ENCODERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from harmony_mol.config import config_from_dict
from harmony_mol.nn.cgcnn import CGCNNEncoder
from harmony_mol.nn.encoder import HarmonyEncoder
from harmony_mol.nn.encoder_config import CGCNNEncoderConfig, EncoderConfig, GINEncoderConfig, HarmonyEncoderConfig
from harmony_mol.nn.gin import GINEncoder
from harmony_mol.nn.inputs import InputDims

DEFAULT_ARCH = "harmony"

#: ``{arch: (config dataclass, module class)}``; the module is built as ``module(cfg, dims)``.
ENCODERS: dict[str, tuple[type[Any], Callable[[Any, InputDims], nn.Module]]] = {
    "harmony": (HarmonyEncoderConfig, HarmonyEncoder),
    "gin": (GINEncoderConfig, GINEncoder),
    "cgcnn": (CGCNNEncoderConfig, CGCNNEncoder),
}


def encoder_config_from_dict(d: Mapping[str, Any]) -> EncoderConfig:
    """The typed config of a stored ``encoder_config`` dict (strict: unknown keys and wrong types raise).

    Raises:
        ValueError: an unregistered ``arch``, or a key / value the config dataclass refuses.
    """
    arch = d.get("arch", DEFAULT_ARCH)
    if arch not in ENCODERS:
        raise ValueError(f"encoder_config: unknown arch {arch!r}; registered: {sorted(ENCODERS)}")
    return config_from_dict(ENCODERS[arch][0], dict(d), where="encoder_config")


def build_encoder(config: EncoderConfig | Mapping[str, Any], input_dims: InputDims | Mapping[str, Any]) -> nn.Module:
    """A freshly initialised encoder of ``config.arch``, with ``out_dim`` and ``forward(batch) -> [N, out_dim]``.

    Args:
        config: A typed encoder config, or its stored dict form (a checkpoint's or bundle's ``encoder_config``).
        input_dims: The graph records' input sizes, or their dict form (``FeaturizerSpec.to_dict()``).
    """
    cfg = encoder_config_from_dict(config) if isinstance(config, Mapping) else config
    dims = input_dims if isinstance(input_dims, InputDims) else InputDims.from_spec_dict(dict(input_dims))
    return ENCODERS[cfg.arch][1](cfg, dims)
