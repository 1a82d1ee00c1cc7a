"""Checking the sizes a file declares against its tensors without allocating the model."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import torch


class _LargeOnMeta(torch.overrides.TorchFunctionMode):
    """Tensor constructors asking for more than ``limit`` elements (and no device) make ``meta`` tensors."""

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
    if not size or not all(isinstance(d, int) and not isinstance(d, bool) for d in size):
        return 0
    return math.prod(max(d, 0) for d in size)


@contextlib.contextmanager
def meta_build(limit: int = 1 << 16) -> Iterator[None]:
    """Build modules with every large tensor on PyTorch's ``meta`` device and ``torch.nn.init`` skipped.

    Shapes come out exactly as a real build's and at most ``limit`` elements per tensor are allocated, so
    a file declaring, say, a hidden size of 2,000,000 costs nothing to check. Small tensors stay real and
    initialisation is skipped so that nothing pulls in ``torch._dynamo`` (about 1.5 CPU-s of start-up).
    """
    from torch.nn import init

    saved = {n: getattr(init, n) for n in dir(init)
             if n.endswith("_") and not n.startswith("_") and callable(getattr(init, n))}
    try:
        for n in saved:
            setattr(init, n, lambda tensor, *args, **kwargs: tensor)
        with _LargeOnMeta(limit):
            yield
    finally:
        for n, fn in saved.items():
            setattr(init, n, fn)


def state_mismatch(expected: dict[str, torch.Tensor], have: dict[str, Any]) -> str | None:
    """How ``have`` (weights from a file) differs in keys or shapes from ``expected`` (a ``meta`` state dict)."""
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
