"""Encoder checkpoints: plain dicts of tensors and JSON-able values (``weights_only=True`` safe).

Format (``kind="encoder"``, contract 5)::

    {format_version, kind, encoder_config, input_dims, featurizer_spec, pretrain_config,
     student, teacher, predictor, recon_head, optimizer, scheduler, step, epoch, rng, state, versions}

``last.pt`` (resume) and ``encoder.pt`` (final) share the format; ``state`` holds loop extras
(loader position, mask generator, difficulty buffer, loss history). Everything is written
atomically.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from harmony_mol.nn.encoder_config import EncoderConfig
from harmony_mol.nn.inputs import InputDims
from harmony_mol.utils.io import atomic_torch_save
from harmony_mol.utils.provenance import versions

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
ENCODER_KIND = "encoder"

__all__ = ["FORMAT_VERSION", "save_checkpoint", "load_checkpoint", "load_encoder", "build_encoder", "meta_build", "state_mismatch"]


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (stamped with format version, kind and versions) atomically to ``path``."""
    out = {"format_version": FORMAT_VERSION, "kind": ENCODER_KIND, "versions": versions(), **payload}
    for key in ("encoder_config", "input_dims", "student"):
        if key not in out:
            raise ValueError(f"encoder checkpoint payload lacks {key!r}")
    path = Path(path)
    atomic_torch_save(out, path)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and validate an encoder checkpoint with ``weights_only=True``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not an encoder checkpoint or an unsupported format version.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - empty, truncated or foreign file: one line naming it
        raise ValueError(f"{path}: cannot be read as a checkpoint ({type(exc).__name__}: "
                         f"{' '.join(str(exc).split())[:300] or 'no details'})") from exc
    if not isinstance(ckpt, dict) or ckpt.get("kind") != ENCODER_KIND:
        kind = ckpt.get("kind") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ValueError(f"{path}: expected an encoder checkpoint (kind='encoder'), got kind={kind!r}")
    if ckpt.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: checkpoint format_version={ckpt.get('format_version')!r}, "
                         f"this harmony-mol reads version {FORMAT_VERSION}")
    return ckpt


def build_encoder(encoder_config: dict[str, Any], input_dims: dict[str, Any]) -> nn.Module:
    """Instantiate a fresh encoder from the stored config and input dims.

    ``encoder_config["arch"] == "gin"`` builds the :class:`~harmony_mol.nn.gin.GINEncoder` baseline;
    anything else (no ``arch`` key) a ``HarmonyEncoder``.
    """
    dims = InputDims.from_spec_dict(input_dims)
    if encoder_config.get("arch") == "gin":
        from harmony_mol.nn.gin import GINConfig, GINEncoder

        return GINEncoder(GINConfig.from_dict(encoder_config), dims)
    from harmony_mol.nn.encoder import HarmonyEncoder

    cfg = {k: v for k, v in encoder_config.items() if k != "arch"}
    return HarmonyEncoder(EncoderConfig.from_dict(cfg), dims)


def load_encoder(path: str | Path, which: str = "student",
                 map_location: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the student or teacher encoder of a checkpoint.

    Returns:
        ``(encoder in eval mode, meta)``; ``meta`` is the checkpoint without any state dicts
        (configs, featurizer spec, step, epoch, versions).
    """
    if which not in ("student", "teacher"):
        raise ValueError(f"which must be 'student' or 'teacher', got {which!r}")
    ckpt = load_checkpoint(path, map_location)
    state = ckpt.get(which)
    if state is None:
        raise ValueError(f"{path}: checkpoint has no {which!r} weights")
    if not isinstance(state, dict):
        raise ValueError(f"{path}: the {which!r} weights are not a state dict")
    try:
        with meta_build():  # sizes are checked against the tensors before anything is allocated
            expected = build_encoder(dict(ckpt["encoder_config"]), dict(ckpt["input_dims"])).state_dict()
    except Exception as exc:  # noqa: BLE001 - a config this code cannot build is a bad checkpoint
        raise ValueError(f"{path}: its encoder_config / input_dims cannot be built "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())[:300]})") from exc
    problem = state_mismatch(expected, state)
    if problem:
        raise ValueError(f"{path}: {which} {problem}; the file is inconsistent (edited or corrupted)")
    enc = build_encoder(ckpt["encoder_config"], ckpt["input_dims"])
    enc.load_state_dict(state)
    enc.eval()
    heavy = {"student", "teacher", "predictor", "recon_head", "optimizer", "scheduler", "rng", "state"}
    meta = {k: v for k, v in ckpt.items() if k not in heavy}
    return enc, meta


class _LargeOnMeta(torch.overrides.TorchFunctionMode):
    """Tensor constructors asking for more than ``limit`` elements (and no device) make ``meta`` tensors.

    Small tensors (index tables, offsets) stay real CPU tensors, so the few operations a module runs on them
    while it is built do not go through the ``meta`` decompositions, which import ``torch._dynamo``.
    """

    def __init__(self, limit: int) -> None:
        super().__init__()
        from torch.utils._device import _device_constructors

        self.constructors = _device_constructors()
        self.limit = limit

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func in self.constructors and kwargs.get("device") is None and _numel(args) > self.limit:
            kwargs["device"] = "meta"
        return func(*args, **kwargs)


def _numel(args: Any) -> int:
    """Elements a constructor call ``f(*size)`` / ``f(size, ...)`` asks for (0 when it is not a size)."""
    size = args[0] if args and isinstance(args[0], (tuple, list, torch.Size)) else args
    n = 1
    for d in size:
        if not isinstance(d, int) or isinstance(d, bool):
            return 0
        n *= max(d, 0)
    return n if size else 0


@contextlib.contextmanager
def meta_build(limit: int = 1 << 16) -> Iterator[None]:
    """Build modules with every large tensor on PyTorch's ``meta`` device and ``torch.nn.init`` skipped.

    Shapes come out exactly as a real build's and at most ``limit`` elements per tensor are allocated, so
    a file declaring, say, a hidden size of 2,000,000 costs nothing to check. Small tensors stay real and
    initialisation is skipped so that nothing pulls in ``torch._dynamo`` (about 1.5 CPU-s of start-up).
    """
    from torch.nn import init

    names = [n for n in dir(init) if n.endswith("_") and not n.startswith("_") and callable(getattr(init, n))]
    saved = {n: getattr(init, n) for n in names}

    def skip(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        return tensor

    try:
        for n in names:
            setattr(init, n, skip)
        with _LargeOnMeta(limit):
            yield
    finally:
        for n, fn in saved.items():
            setattr(init, n, fn)


def state_mismatch(expected: dict[str, torch.Tensor], have: dict[str, Any]) -> str | None:
    """How ``have`` (weights from a file) differs from ``expected`` (a ``meta``-device state dict), or ``None``.

    Compares key sets and every tensor's shape, so the sizes a file declares in its configs are checked
    against its tensors without allocating the model.
    """
    missing = sorted(set(expected) - set(have))
    extra = sorted(set(have) - set(expected))
    if missing or extra:
        return f"weights do not match the config (missing {missing[:3]}, unexpected {extra[:3]})"
    for key, ref in expected.items():
        t = have[key]
        if not isinstance(t, torch.Tensor) or tuple(t.shape) != tuple(ref.shape):
            shape = list(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            return f"weight {key!r} is {shape} but the config declares {list(ref.shape)}"
    return None


#: Checkpoint entries needed only to resume training (dropped by :func:`export_encoder`).
RESUME_ONLY = ("optimizer", "scheduler", "rng", "state")


def export_encoder(src: str | Path, dst: str | Path) -> Path:
    """Write a slim copy of a pretraining checkpoint: weights, configs and featurizer spec, without the
    optimizer, scheduler, RNG and difficulty-buffer state (a 13 MB CPU checkpoint becomes < 1 MB).

    The copy loads with :func:`load_encoder` / fine-tuning like the original; it cannot ``--resume``.
    """
    ckpt = load_checkpoint(src)
    slim = {k: v for k, v in ckpt.items() if k not in RESUME_ONLY}
    slim["exported_from"] = str(src)
    return save_checkpoint(dst, slim)
