"""Strict loading of stage configs (frozen dataclasses) from YAML files and ``a.b=value`` overrides.

Every stage has one config dataclass (defined next to the stage). :func:`load_config` builds it
from a YAML mapping, rejects unknown keys with a message naming the file, the key and the valid
keys, and checks value types. :func:`config_to_dict` turns a config back into plain JSON-able data,
which is what checkpoints and reports store.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A config file or override is invalid; the message says where and why."""


def load_config(
    cls: type[T],
    path: str | Path | None = None,
    overrides: dict[str, Any] | list[str] | None = None,
    *,
    section: str | None = None,
) -> T:
    """Build ``cls`` from a YAML file plus overrides.

    Args:
        cls: A dataclass type (nested dataclasses allowed).
        path: YAML file; ``None`` starts from the dataclass defaults.
        overrides: ``{"optim.lr": 1e-3}`` or ``["optim.lr=1e-3"]`` (values parsed as YAML scalars).
        section: Read only this top-level key of the YAML file (e.g. ``pretrain`` in a pipeline file).

    Raises:
        ConfigError: unknown key, wrong type, missing required value, or unreadable file.
    """
    raw: dict[str, Any] = {}
    where = str(path) if path is not None else "<defaults>"
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            loaded = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p}: top level must be a mapping, got {type(loaded).__name__}")
        if section is not None:
            loaded = loaded.get(section) or {}
            where = f"{p}[{section}]"
        raw = loaded
    for key, value in parse_overrides(overrides).items():
        _set_dotted(raw, key, value)
    return _build(cls, raw, where, prefix="")


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Plain-data view of a config (Paths become strings, tuples lists) for checkpoints and reports."""
    def conv(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, Path):
            return str(v)
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {str(k): conv(x) for k, x in v.items()}
        return v

    return conv(cfg)


def config_from_dict(cls: type[T], data: dict[str, Any], where: str = "<dict>") -> T:
    """Inverse of :func:`config_to_dict` (strict, like :func:`load_config`)."""
    return _build(cls, dict(data), where, prefix="")


def dump_config(cfg: Any, path: str | Path) -> None:
    """Write the resolved config as YAML (atomically)."""
    from harmony_mol.utils.io import atomic_write_text

    atomic_write_text(Path(path), yaml.safe_dump(config_to_dict(cfg), sort_keys=False))


# --------------------------------------------------------------------------------------------
def parse_overrides(overrides: dict[str, Any] | list[str] | None) -> dict[str, Any]:
    """``["optim.lr=1e-3", ...]`` (values parsed as YAML) or a dict, as ``{dotted key: value}``.

    Raises:
        ConfigError: an item without ``=``.
    """
    if not overrides:
        return {}
    if isinstance(overrides, dict):
        return dict(overrides)
    out: dict[str, Any] = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key.sub=value")
        key, text = item.split("=", 1)
        out[key.strip()] = yaml.safe_load(text) if text.strip() else None
    return out


def _set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = raw
    for part in parts[:-1]:
        nxt = node.get(part)
        if nxt is None:
            nxt = {}
            node[part] = nxt
        if not isinstance(nxt, dict):
            raise ConfigError(f"override {key!r}: {part!r} is not a section")
        node = nxt
    node[parts[-1]] = value


def _build(cls: type[T], raw: Any, where: str, prefix: str) -> T:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: {prefix or 'config'} must be a mapping, got {type(raw).__name__}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(prefix + k for k in unknown)}; "
            f"valid keys here: {', '.join(sorted(fields))}"
        )
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in raw:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:  # type: ignore[misc]
                raise ConfigError(f"{where}: missing required key {prefix + name}")
            continue
        kwargs[name] = _coerce(hints[name], raw[name], where, prefix + name)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _coerce(tp: Any, value: Any, where: str, key: str) -> Any:  # noqa: C901 - a type switch
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        if isinstance(value, dict) and all(dataclasses.is_dataclass(a) for a in args):
            # dataclasses tagged by a Literal ``arch`` field (harmony_mol/models/registry.py): the tag picks one
            tags = {t: a for a in args for t in get_args(get_type_hints(a).get("arch", Any))}
            arch = value.get("arch", next(iter(tags), None))
            if tags and arch not in tags:
                raise ConfigError(f"{where}: {key}.arch={arch!r} must be one of {list(tags)}")
            if tags:
                return _build(tags[arch], value, where, key + ".")
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, where, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"{where}: {key}={value!r} does not match {tp}")
    if origin is Literal:
        if value not in get_args(tp):
            raise ConfigError(f"{where}: {key}={value!r} must be one of {list(get_args(tp))}")
        return value
    if dataclasses.is_dataclass(tp):
        return _build(tp, value if value is not None else {}, where, key + ".")
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: {key} must be a list, got {value!r}")
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where}: {key} must have {len(args)} items")
            return tuple(_coerce(a, v, where, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        inner = args[0] if args else Any
        items = [_coerce(inner, v, where, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if (origin is tuple or tp is tuple) else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {key} must be a mapping, got {value!r}")
        return dict(value)
    if tp is Path:
        if not isinstance(value, (str, Path)):
            raise ConfigError(f"{where}: {key} must be a path string, got {value!r}")
        return Path(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key} must be true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: {key} must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string, got {value!r}")
        return value
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(f"{where}: {key}={value!r} is not a valid {getattr(tp, '__name__', tp)}")


_ = typing  # keep typing imported for forward references in get_type_hints
