"""Model bundles: one ``.pt`` file per trained (possibly ensembled) property model.

A bundle is a plain dict loadable with ``torch.load(weights_only=True)``::

    {format_version, kind: "harmony-model", package_version, created,
     encoder_config, input_dims, featurizer_spec, readout, head_config,
     task_type, target_names, members: [{encoder, readout, head (state dicts), scaler {mean, std},
     seed, split {train, valid, test: row ids}, metrics}], training_config, metrics}

Several members make an ensemble: predictions are averaged and their spread reported.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from harmony_mol.checkpoint import meta_build, state_mismatch
from harmony_mol.finetune.loss import TargetScaler
from harmony_mol.finetune.model import PropertyModel, build_encoder, build_model
from harmony_mol.utils.io import atomic_torch_save

logger = logging.getLogger(__name__)

BUNDLE_KIND = "harmony-model"
BUNDLE_FORMAT_VERSION = 1


class BundleError(ValueError):
    """A file is not a usable model bundle (wrong kind, other format version, missing keys)."""


@dataclass
class BundleMember:
    """One trained replicate: weights plus what it was trained with."""

    encoder: dict[str, torch.Tensor]
    readout: dict[str, torch.Tensor]
    head: dict[str, torch.Tensor]
    scaler: TargetScaler
    seed: int = 0
    split: dict[str, list[int]] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelBundle:
    """In-memory form of a bundle file (see module docstring)."""

    encoder_config: dict[str, Any]
    input_dims: dict[str, Any]
    featurizer_spec: dict[str, Any]
    readout: str
    head_config: dict[str, Any]
    task_type: str
    target_names: list[str]
    members: list[BundleMember]
    training_config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    package_version: str = ""

    def build_member(self, i: int = 0) -> PropertyModel:
        """Instantiate member ``i`` as an eval-mode :class:`PropertyModel` with its weights."""
        m = self.members[i]
        model = build_model(
            build_encoder(self.encoder_config, self.input_dims), len(self.target_names), self.readout,
            self.head_config,
        )
        model.encoder.load_state_dict(m.encoder)
        model.readout.load_state_dict(m.readout)
        model.head.load_state_dict(m.head)
        return model.eval()

    def build_members(self) -> list[PropertyModel]:
        """All members, in order."""
        return [self.build_member(i) for i in range(len(self.members))]

    @staticmethod
    def member_from_model(
        model: PropertyModel, scaler: TargetScaler, seed: int, split: dict[str, list[int]], metrics: dict[str, Any]
    ) -> BundleMember:
        """Snapshot a trained model's weights (detached CPU copies) into a member."""
        def cpu(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
            return {k: v.detach().cpu().clone() for k, v in sd.items()}

        return BundleMember(
            encoder=cpu(model.encoder.state_dict()), readout=cpu(model.readout.state_dict()),
            head=cpu(model.head.state_dict()), scaler=scaler, seed=seed, split=split, metrics=metrics,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tensors and JSON-able values only)."""
        from harmony_mol import __version__

        return {
            "format_version": BUNDLE_FORMAT_VERSION,
            "kind": BUNDLE_KIND,
            "package_version": self.package_version or __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "encoder_config": dict(self.encoder_config),
            "input_dims": dict(self.input_dims),
            "featurizer_spec": dict(self.featurizer_spec),
            "readout": self.readout,
            "head_config": dict(self.head_config),
            "task_type": self.task_type,
            "target_names": list(self.target_names),
            "members": [
                {
                    "encoder": m.encoder, "readout": m.readout, "head": m.head, "scaler": m.scaler.to_dict(),
                    "seed": int(m.seed), "split": {k: [int(i) for i in v] for k, v in m.split.items()},
                    "metrics": m.metrics,
                }
                for m in self.members
            ],
            "training_config": self.training_config,
            "metrics": self.metrics,
        }

    @classmethod
    def from_dict(cls, d: Any, source: str = "<dict>") -> ModelBundle:
        """Validate and parse a loaded bundle dict; raises :class:`BundleError` with a clear message."""
        if not isinstance(d, dict) or "kind" not in d:
            raise BundleError(f"{source}: not a harmony-mol model bundle (no 'kind' field)")
        if d["kind"] != BUNDLE_KIND:
            hint = " (an encoder checkpoint: fine-tune it first, or use `harmony embed --encoder`)" \
                if d["kind"] == "encoder" else ""
            raise BundleError(f"{source}: kind is {d['kind']!r}, expected {BUNDLE_KIND!r}{hint}")
        ver = d.get("format_version")
        if ver != BUNDLE_FORMAT_VERSION:
            raise BundleError(
                f"{source}: bundle format version {ver!r} is not supported by this harmony-mol "
                f"(reads version {BUNDLE_FORMAT_VERSION}); it was written by harmony-mol "
                f"{d.get('package_version', '?')}. Re-train or re-export it with a matching release."
            )
        required = ("encoder_config", "input_dims", "featurizer_spec", "readout", "head_config", "task_type",
                    "target_names", "members")
        missing = [k for k in required if k not in d]
        if missing:
            raise BundleError(f"{source}: bundle lacks {', '.join(missing)}")
        if not d["members"]:
            raise BundleError(f"{source}: bundle has no members")
        members = [
            BundleMember(
                encoder=m["encoder"], readout=m["readout"], head=m["head"],
                scaler=TargetScaler.from_dict(m["scaler"]), seed=int(m.get("seed", 0)),
                split=dict(m.get("split", {})), metrics=dict(m.get("metrics", {})),
            )
            for m in d["members"]
        ]
        bundle = cls(
            encoder_config=dict(d["encoder_config"]), input_dims=dict(d["input_dims"]),
            featurizer_spec=dict(d["featurizer_spec"]), readout=str(d["readout"]),
            head_config=dict(d["head_config"]), task_type=str(d["task_type"]),
            target_names=list(d["target_names"]), members=members,
            training_config=dict(d.get("training_config", {})), metrics=dict(d.get("metrics", {})),
            package_version=str(d.get("package_version", "")),
        )
        check_shapes(bundle, source)
        return bundle


def check_shapes(bundle: ModelBundle, source: str = "<bundle>") -> None:
    """Check the sizes the bundle declares (encoder / head config, input dims, targets) against its tensors.

    The model is instantiated on PyTorch's ``meta`` device (:func:`~harmony_mol.checkpoint.meta_build`), which
    allocates no memory, so a bundle that
    declares, say, a hidden size of 2,000,000 is refused in milliseconds instead of asking for terabytes.

    Raises:
        BundleError: the configs cannot be built, or a member's weights are missing, extra, not tensors or
            shaped differently from what the configs declare (naming the first such weight).
    """
    try:
        with meta_build():
            model = build_model(build_encoder(bundle.encoder_config, bundle.input_dims), len(bundle.target_names),
                                bundle.readout, bundle.head_config)
    except Exception as exc:  # noqa: BLE001 - any config the code cannot build is a bad bundle
        raise BundleError(f"{source}: its encoder / read-out / head configs cannot be built "
                          f"({type(exc).__name__}: {' '.join(str(exc).split())[:300]})") from exc
    want = {"encoder": model.encoder.state_dict(), "readout": model.readout.state_dict(),
            "head": model.head.state_dict()}
    for i, m in enumerate(bundle.members):
        for part, expected in want.items():
            have = getattr(m, part)
            problem = state_mismatch(expected, have) if isinstance(have, dict) else "weights are not a state dict"
            if problem:
                raise BundleError(f"{source}: member {i} {part} {problem}; the file is inconsistent "
                                  "(edited or corrupted)")


def save_bundle(bundle: ModelBundle, path: str | Path) -> Path:
    """Write ``bundle`` atomically to ``path`` (parent folders created)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    atomic_torch_save(bundle.to_dict(), p)
    logger.info("wrote model bundle %s (%d member(s))", p, len(bundle.members))
    return p


def load_bundle(path: str | Path) -> ModelBundle:
    """Read a bundle with ``torch.load(weights_only=True)``; raise :class:`BundleError` on any problem."""
    p = Path(path)
    if not p.is_file():
        raise BundleError(f"model bundle not found: {p}")
    try:
        raw = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "not a bundle"
        raise BundleError(f"{p}: cannot be read as a model bundle ({type(exc).__name__}: {exc})") from exc
    return ModelBundle.from_dict(raw, source=str(p))


def merge_bundles(bundles: list[ModelBundle]) -> ModelBundle:
    """Concatenate the members of compatible bundles into one ensemble bundle.

    Raises:
        BundleError: the bundles differ in featurizer spec, tasks, task type or architecture.
    """
    if not bundles:
        raise BundleError("no bundles to merge")
    first = bundles[0]
    for b in bundles[1:]:
        for attr in ("featurizer_spec", "target_names", "task_type", "encoder_config", "readout", "head_config"):
            if getattr(b, attr) != getattr(first, attr):
                raise BundleError(f"cannot ensemble bundles that differ in {attr}")
    members = [m for b in bundles for m in b.members]
    return ModelBundle(
        encoder_config=first.encoder_config, input_dims=first.input_dims, featurizer_spec=first.featurizer_spec,
        readout=first.readout, head_config=first.head_config, task_type=first.task_type,
        target_names=first.target_names, members=members, training_config=first.training_config,
        metrics=first.metrics, package_version=first.package_version,
    )
