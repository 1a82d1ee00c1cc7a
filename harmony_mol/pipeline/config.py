"""The pipeline file (``configs/quickstart.yaml``) and the linked, typed stage configs it resolves to.

A pipeline YAML has one section per variant (``molecule`` and ``crystal``); each holds partial stage configs.
The paths that link the stages (dataset directory, encoder checkpoint, output folders) are filled in from
``out_dir``, so a user only edits what matters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harmony_mol.config import config_from_dict
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.finetune.config import FinetuneConfig
from harmony_mol.ssl.config import PretrainConfig

Kind = Literal["molecule", "crystal"]


@dataclass(frozen=True)
class PipelineVariant:
    """Partial stage configs of one variant (keys as in the stage YAML files; the linking paths are filled in).

    Args:
        predict_input: File to predict with the fine-tuned bundle (``None`` = skip predictions).
        predict_heldout: Predict the fine-tuning test rows instead, which no model stage trained on or selected
            with (:func:`~harmony_mol.pipeline.heldout.write_heldout`); the predictions sit beside the measured values.
    """

    featurize: dict[str, Any] = field(default_factory=dict)
    pretrain: dict[str, Any] = field(default_factory=dict)
    finetune: dict[str, Any] = field(default_factory=dict)
    predict_input: str | None = None
    predict_heldout: bool = False

    def __post_init__(self) -> None:
        if self.predict_input and self.predict_heldout:
            raise ValueError("give predict_input or predict_heldout, not both")


@dataclass(frozen=True)
class PipelineConfig:
    """The pipeline file: the run root (each variant writes under ``<out_dir>/<kind>/``) and the two variants."""

    out_dir: Path = Path("runs/quickstart")
    molecule: PipelineVariant = field(default_factory=PipelineVariant)
    crystal: PipelineVariant = field(default_factory=PipelineVariant)


@dataclass(frozen=True)
class StageConfigs:
    """Resolved, linked configs of one pipeline variant (all paths absolute, below ``root = <out_dir>/<kind>``).

    ``featurize`` writes ``<root>/dataset``; ``pretrain`` reads it and writes ``<root>/pretrain/encoder.pt``;
    ``finetune`` reads both and writes ``<root>/finetune/<name>/``; the predict stage writes ``predictions``
    (``<root>/predictions.csv``) from ``predict_input`` or, with ``predict_heldout``, from the held-out rows.
    """

    kind: Kind
    root: Path
    featurize: FeaturizeConfig
    pretrain: PretrainConfig
    finetune: FinetuneConfig
    predict_input: Path | None
    predictions: Path
    predict_heldout: bool


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def abs_path(path: str | Path, base: Path) -> Path:
    """``path`` with ``~`` expanded, relative to ``base`` unless absolute."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base / p)


def _abs_inputs(inputs: list[str], base: Path) -> list[str]:
    # Registry names (no path separator, not an existing file) are left for the registry to resolve.
    return [str(abs_path(s, base)) if "/" in s or abs_path(s, base).exists() else s for s in inputs]


def stage_configs(cfg: PipelineConfig, kind: Kind = "molecule", base_dir: Path | None = None,
                  out_dir: Path | None = None) -> StageConfigs:
    """Build the linked stage configs of one variant, each stage reading what the one before it wrote.

    Args:
        cfg: The pipeline config.
        kind: The variant.
        base_dir: Relative input paths are resolved against this (default: current directory).
        out_dir: Overrides ``cfg.out_dir``.

    Raises:
        ValueError: unknown kind, a variant without inputs, or invalid stage values (the message names the stage).
    """
    if kind not in ("molecule", "crystal"):
        raise ValueError(f"kind must be 'molecule' or 'crystal', got {kind!r}")
    var: PipelineVariant = getattr(cfg, kind)
    base = Path(base_dir or Path.cwd()).resolve()
    root = abs_path(out_dir or cfg.out_dir, base).resolve() / kind
    fz = dict(var.featurize)
    if not fz.get("inputs"):
        raise ValueError(f"pipeline variant {kind!r} has no featurize.inputs")
    fz["inputs"] = _abs_inputs(fz["inputs"], base)
    fz.setdefault("kind", kind)
    fz["output"] = str(root / "dataset")
    featurize = config_from_dict(FeaturizeConfig, fz, where=f"pipeline[{kind}].featurize")
    pre = _merge(var.pretrain, {"dataset": str(root / "dataset"), "out_dir": str(root / "pretrain")})
    pretrain = config_from_dict(PretrainConfig, pre, where=f"pipeline[{kind}].pretrain")
    ft = _merge(_merge({"name": kind}, var.finetune), {"data": {"input": str(root / "dataset")},
                                                       "model": {"pretrained": str(root / "pretrain" / "encoder.pt")},
                                                       "out_dir": str(root / "finetune")})
    finetune = config_from_dict(FinetuneConfig, ft, where=f"pipeline[{kind}].finetune")
    pred = abs_path(var.predict_input, base) if var.predict_input else None
    return StageConfigs(kind=kind, root=root, featurize=featurize, pretrain=pretrain, finetune=finetune,
                        predict_input=pred, predictions=root / "predictions.csv",
                        predict_heldout=var.predict_heldout)

