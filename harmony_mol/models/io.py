"""Reading and writing the two model files: encoder checkpoints and model bundles.

Both are plain dicts of tensors and JSON-able values, written atomically and read with
``torch.load(weights_only=True)`` (a file can carry no code); the sizes their configs declare are checked
against their tensors on the ``meta`` device (``harmony_mol/models/meta.py``) before any weights load.

Encoder checkpoint (``kind="encoder"``; ``last.pt`` to resume, ``encoder.pt`` final)::

    {format_version, kind, encoder_config, input_dims, featurizer_spec, pretrain_config,
     student, teacher, predictor, recon_head, optimizer, scheduler, step, epoch, rng, state, versions}

``state`` holds the pretraining loop's extras (loader position, mask generator, difficulty buffer, loss
history). Model bundle (``kind="harmony-model"``), one trained (possibly ensembled) property model::

    {format_version, kind, package_version, created, encoder_config, input_dims, featurizer_spec, readout,
     head_config, task_type, target_names, members: [{encoder, readout, head (state dicts),
     scaler {mean, std}, seed, split {train, valid, test: row ids}, metrics}], training_config, metrics}

Several members make an ensemble: predictions are averaged and their spread reported.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from harmony_mol.models.meta import meta_build, state_mismatch
from harmony_mol.models.property_model import PropertyModel, build_model
from harmony_mol.models.registry import DEFAULT_ARCH, build_encoder
from harmony_mol.models.scaler import TargetScaler
from harmony_mol.utils.io import atomic_torch_save
from harmony_mol.utils.provenance import versions

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
ENCODER_KIND = "encoder"
BUNDLE_KIND = "harmony-model"
BUNDLE_FORMAT_VERSION = 1

#: Checkpoint entries needed only to resume training (dropped by :func:`export_encoder`).
RESUME_ONLY = ("optimizer", "scheduler", "rng", "state")
#: The modules of a :class:`PropertyModel`, each stored as one state dict per bundle member.
_PARTS = ("encoder", "readout", "head")


class BundleError(ValueError):
    """A file is not a usable model bundle (wrong kind, other format version, missing keys)."""


def _brief(exc: BaseException) -> str:
    """``"TypeName: message"`` on one line, at most 300 characters of message."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300] or 'no details'}"


def _tagged(encoder_config: dict[str, Any]) -> dict[str, Any]:
    """``encoder_config`` with its ``arch`` (files written before the tag existed lack it)."""
    return {"arch": DEFAULT_ARCH, **encoder_config}


def _read(path: str | Path, what: str, error: type[Exception], missing: type[Exception],
          map_location: str | torch.device = "cpu") -> Any:
    """``torch.load(path, weights_only=True)``; a missing or unreadable file raises one line naming it."""
    p = Path(path)
    if not p.is_file():
        raise missing(f"{what} not found: {p}")
    try:
        return torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:  # empty, truncated, foreign or pickled-code file: one line naming it
        raise error(f"{p}: cannot be read as a {what} ({_brief(exc)})") from exc


def _check_weights(source: str, what: str, build: Callable[[], dict[str, nn.Module]],
                   weights: list[tuple[str, str, Any]], error: type[Exception]) -> None:
    """Build the modules on the ``meta`` device and compare each ``(label, part, state dict)`` with them.

    Raises:
        error: the configs cannot be built, or some weights are not a state dict or do not match.
    """
    try:
        with meta_build():  # sizes are checked against the tensors before anything is allocated
            expected = {part: module.state_dict() for part, module in build().items()}
    except Exception as exc:  # a config this code cannot build is a bad file
        raise error(f"{source}: its {what} cannot be built ({_brief(exc)})") from exc
    for label, part, have in weights:
        problem = state_mismatch(expected[part], have) if isinstance(have, dict) else "weights are not a state dict"
        if problem:
            raise error(f"{source}: {label} {problem}; the file is inconsistent (edited or corrupted)")


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (stamped with format version, kind and versions) atomically to ``path``."""
    out = {"format_version": FORMAT_VERSION, "kind": ENCODER_KIND, "versions": versions(), **payload}
    for key in ("encoder_config", "input_dims", "student"):
        if key not in out:
            raise ValueError(f"encoder checkpoint payload lacks {key!r}")
    atomic_torch_save(out, Path(path))
    return Path(path)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and validate an encoder checkpoint with ``weights_only=True``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not an encoder checkpoint or an unsupported format version.
    """
    ckpt = _read(path, "checkpoint", ValueError, FileNotFoundError, map_location)
    if not isinstance(ckpt, dict) or ckpt.get("kind") != ENCODER_KIND:
        kind = ckpt.get("kind") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ValueError(f"{path}: expected an encoder checkpoint (kind='encoder'), got kind={kind!r}")
    if ckpt.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: checkpoint format_version={ckpt.get('format_version')!r}, "
                         f"this harmony-mol reads version {FORMAT_VERSION}")
    if isinstance(ckpt.get("encoder_config"), dict):
        ckpt["encoder_config"] = _tagged(ckpt["encoder_config"])
    run = ckpt.get("pretrain_config")
    if isinstance(run, dict) and isinstance(run.get("encoder"), dict):  # so a resume compares like with like
        run["encoder"] = _tagged(run["encoder"])
    return ckpt


def load_encoder(path: str | Path, which: str = "student") -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the student or teacher encoder of a checkpoint.

    Returns:
        ``(encoder in eval mode, meta)``; ``meta`` is the checkpoint without any state dicts
        (configs, featurizer spec, step, epoch, versions).
    """
    if which not in ("student", "teacher"):
        raise ValueError(f"which must be 'student' or 'teacher', got {which!r}")
    ckpt = load_checkpoint(path)
    state = ckpt.get(which)
    if state is None:
        raise ValueError(f"{path}: checkpoint has no {which!r} weights")
    _check_weights(str(path), "encoder_config / input_dims",
                   lambda: {"encoder": build_encoder(ckpt["encoder_config"], ckpt["input_dims"])},
                   [(which, "encoder", state)], ValueError)
    enc = build_encoder(ckpt["encoder_config"], ckpt["input_dims"])
    enc.load_state_dict(state)
    heavy = {"student", "teacher", "predictor", "recon_head", *RESUME_ONLY}
    return enc.eval(), {k: v for k, v in ckpt.items() if k not in heavy}


def export_encoder(src: str | Path, dst: str | Path) -> Path:
    """Write a copy of a pretraining checkpoint without :data:`RESUME_ONLY` (loads like it, cannot ``--resume``)."""
    slim = {k: v for k, v in load_checkpoint(src).items() if k not in RESUME_ONLY}
    slim["exported_from"] = str(src)
    return save_checkpoint(dst, slim)


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
    """In-memory form of a bundle file (see the module docstring)."""

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

    def fresh_model(self) -> PropertyModel:
        """A freshly initialised :class:`PropertyModel` of the bundle's configs (no member's weights)."""
        encoder = build_encoder(self.encoder_config, self.input_dims)
        return build_model(encoder, len(self.target_names), self.readout, self.head_config)

    def build_member(self, i: int = 0) -> PropertyModel:
        """Instantiate member ``i`` as an eval-mode :class:`PropertyModel` with its weights."""
        model = self.fresh_model()
        for part in _PARTS:
            getattr(model, part).load_state_dict(getattr(self.members[i], part))
        return model.eval()

    @staticmethod
    def member_from_model(
        model: PropertyModel, scaler: TargetScaler, seed: int, split: dict[str, list[int]], metrics: dict[str, Any]
    ) -> BundleMember:
        """Snapshot a trained model's weights (detached CPU copies) into a member."""
        cpu = {part: {k: v.detach().cpu().clone() for k, v in getattr(model, part).state_dict().items()}
               for part in _PARTS}
        return BundleMember(**cpu, scaler=scaler, seed=seed, split=split, metrics=metrics)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tensors and JSON-able values only)."""
        from harmony_mol import __version__

        return {
            "format_version": BUNDLE_FORMAT_VERSION, "kind": BUNDLE_KIND,
            "package_version": self.package_version or __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "encoder_config": dict(self.encoder_config), "input_dims": dict(self.input_dims),
            "featurizer_spec": dict(self.featurizer_spec), "readout": self.readout,
            "head_config": dict(self.head_config), "task_type": self.task_type,
            "target_names": list(self.target_names),
            "members": [{"encoder": m.encoder, "readout": m.readout, "head": m.head, "scaler": m.scaler.to_dict(),
                         "seed": int(m.seed), "split": {k: [int(i) for i in v] for k, v in m.split.items()},
                         "metrics": m.metrics} for m in self.members],
            "training_config": self.training_config, "metrics": self.metrics,
        }

    @classmethod
    def from_dict(cls, d: Any, source: str = "<dict>") -> ModelBundle:
        """Validate and parse a loaded bundle dict; declared sizes are checked on the ``meta`` device first.

        Raises:
            BundleError: wrong kind or format version, missing keys, configs that cannot be built, or weights
                missing, extra, not tensors or shaped differently from the configs (naming the first one).
        """
        if not isinstance(d, dict) or "kind" not in d:
            raise BundleError(f"{source}: not a harmony-mol model bundle (no 'kind' field)")
        if d["kind"] != BUNDLE_KIND:
            hint = " (an encoder checkpoint: fine-tune it first, or use `harmony embed --encoder`)" \
                if d["kind"] == ENCODER_KIND else ""
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
        members = [BundleMember(encoder=m["encoder"], readout=m["readout"], head=m["head"],
                                scaler=TargetScaler.from_dict(m["scaler"]), seed=int(m.get("seed", 0)),
                                split=dict(m.get("split", {})), metrics=dict(m.get("metrics", {})))
                   for m in d["members"]]
        bundle = cls(
            encoder_config=_tagged(d["encoder_config"]), input_dims=dict(d["input_dims"]),
            featurizer_spec=dict(d["featurizer_spec"]), readout=str(d["readout"]),
            head_config=dict(d["head_config"]), task_type=str(d["task_type"]),
            target_names=list(d["target_names"]), members=members,
            training_config=dict(d.get("training_config", {})), metrics=dict(d.get("metrics", {})),
            package_version=str(d.get("package_version", "")),
        )
        weights = [(f"member {i} {part}", part, getattr(m, part))
                   for i, m in enumerate(members) for part in _PARTS]
        _check_weights(source, "encoder / read-out / head configs", lambda: dict(bundle.fresh_model().named_children()),
                       weights, BundleError)
        return bundle


def save_bundle(bundle: ModelBundle, path: str | Path) -> Path:
    """Write ``bundle`` atomically to ``path`` (parent folders created)."""
    p = Path(path)
    atomic_torch_save(bundle.to_dict(), p)  # parent folders are created by atomic_open
    logger.info("wrote model bundle %s (%d member(s))", p, len(bundle.members))
    return p


def load_bundle(path: str | Path) -> ModelBundle:
    """Read a bundle with ``torch.load(weights_only=True)``; raise :class:`BundleError` on any problem."""
    return ModelBundle.from_dict(_read(path, "model bundle", BundleError, BundleError), source=str(Path(path)))


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
    return dataclasses.replace(first, members=[m for b in bundles for m in b.members])
