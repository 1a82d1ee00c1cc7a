"""Start-up cost of the command line: defer heavy modules a command does not use.

``import torch_geometric`` executes every sub-package and, through ``torch_geometric.isinstance``,
``torch._dynamo``: about half of the CPU time of ``harmony predict`` on one SMILES. A *deferred* module exists
(``import x`` binds it) but its code runs only when one of its attributes is first used or a submodule of it is
imported. :class:`importlib.util.LazyLoader` is not enough on Python 3.11: the import statement reads
``module.__spec__``, which loads it at once; here the module's metadata stays readable without loading.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import os
import sys
import types
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

#: Modules ``harmony predict`` / ``harmony embed`` never use, but importing ``torch_geometric`` executes.
PREDICT_UNUSED = ("torch._dynamo", "torch_geometric.datasets", "torch_geometric.llm")


class _DeferredModule(types.ModuleType):
    """A module whose code has not run yet: the first missing attribute (or ``__path__``) loads it."""

    def __getattr__(self, attr: str) -> Any:
        d = self.__dict__
        if "_harmony_deferred" not in d:
            raise AttributeError(attr)
        spec, path = d.pop("_harmony_deferred")
        self.__class__ = types.ModuleType
        if path is not None:
            self.__path__ = path
        logger.debug("loading deferred module %s (attribute %r)", spec.name, attr)
        spec.loader.exec_module(self)
        return getattr(self, attr)


def _spec(name: str) -> importlib.machinery.ModuleSpec | None:
    parent, _, _ = name.rpartition(".")
    if not parent or parent in sys.modules:
        return importlib.util.find_spec(name)
    pspec = importlib.util.find_spec(parent)  # finds the parent package without running its __init__
    if pspec is None or not pspec.submodule_search_locations:
        return None
    return importlib.machinery.PathFinder.find_spec(name, list(pspec.submodule_search_locations))


def defer_imports(names: tuple[str, ...] = PREDICT_UNUSED) -> list[str]:
    """Register ``names`` as deferred unless they are already imported; return the deferred ones.

    Call it before the first import of their parent package (the CLI does, for predict and embed), then
    :func:`link_deferred` once the parents are imported.
    """
    if os.environ.get("HARMONY_EAGER_IMPORTS"):  # for measuring what deferral saves (harmony speed startup)
        return []
    done = []
    for name in names:
        if name in sys.modules:
            continue
        try:
            spec = _spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        path = module.__dict__.pop("__path__", None)  # importing a submodule reads it: load first then
        module.__dict__["_harmony_deferred"] = (spec, path)
        module.__class__ = _DeferredModule
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent in sys.modules:
            setattr(sys.modules[parent], child, module)
        done.append(name)
    if done:
        logger.debug("deferred imports: %s", ", ".join(done))
    return done


def link_deferred(names: tuple[str, ...] = PREDICT_UNUSED) -> None:
    """Bind deferred modules as attributes of their (now imported) parents, as an import would have."""
    for name in names:
        parent, _, child = name.rpartition(".")
        mod = sys.modules.get(name)
        if mod is not None and parent in sys.modules:
            sys.modules[parent].__dict__.setdefault(child, mod)


def lazy_attributes(package: str, table: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``table[name]`` (a module path) on first use of ``name``.

    Keeps ``import package`` cheap: ``harmony_mol/__init__.py`` and ``harmony_mol/finetune/__init__.py``.
    """

    def __getattr__(name: str) -> Any:
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(table[name]), name)

    return __getattr__
