"""Strict loading of stage configs (frozen dataclasses) from YAML files and ``a.b=value`` overrides.

pydantic v2 validates the data against the stage's dataclass in strict JSON mode with unknown keys
forbidden: an ``int`` field takes only integers, a ``float`` field integers or floats (the string
``"1e-3"`` that YAML 1.1 reads is refused), lists become tuples, strings paths, a union of dataclasses
picks its member by the tag field (e.g. ``arch``), and every ``__post_init__`` check runs. Every problem
becomes one :class:`ConfigError` line naming the file and the dotted key.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import types
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml
from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python

T = TypeVar("T")


class ConfigError(ValueError):
    """A config file or override is invalid; the message says where and why."""


def load_config(cls: type[T], path: str | Path | None = None, overrides: dict[str, Any] | list[str] | None = None,
                *, section: str | None = None) -> T:
    """Build ``cls`` from a YAML file plus overrides.

    Args:
        cls: A dataclass type (nested dataclasses and unions of them allowed).
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
            raw = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{p}: top level must be a mapping, got {type(raw).__name__}")
        if section is not None:
            raw = raw.get(section) or {}
            where = f"{p}[{section}]"
    for key, value in parse_overrides(overrides).items():
        _set_dotted(raw, key, value)
    return config_from_dict(cls, raw, where)


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Plain-data view of a config (Paths become strings, tuples lists) for checkpoints and reports."""
    return to_jsonable_python(cfg)


def config_from_dict(cls: type[T], data: dict[str, Any], where: str = "<dict>") -> T:
    """Build ``cls`` from plain data, strictly; the inverse of :func:`config_to_dict`.

    ``data`` is JSON-like (``Path`` values are taken as their strings); ``where`` (what the data came from)
    starts every error message.

    Raises:
        ConfigError: unknown key, wrong type, missing required value or a failed ``__post_init__`` check.
    """
    try:
        text = json.dumps(data, default=os.fspath)  # configs are JSON data: validate them as JSON
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: not plain config data: {exc}") from exc
    try:
        return _adapter(cls).validate_json(text, strict=True, extra="forbid")
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_describe(cls, exc)}") from exc


def dump_config(cfg: Any, path: str | Path) -> None:
    """Write the resolved config as YAML (atomically)."""
    from harmony_mol.utils.io import atomic_write_text  # not at the top: the CLI imports this module at start

    atomic_write_text(Path(path), yaml.safe_dump(config_to_dict(cfg), sort_keys=False))


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
    """Set ``raw[a][b][c] = value`` for ``key`` ``a.b.c``, creating missing (or null) sections."""
    *parents, last = key.split(".")
    node = raw
    for part in parents:
        if node.get(part) is None:
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict):
            raise ConfigError(f"override {key!r}: {part!r} is not a section")
    node[last] = value


_adapter = functools.cache(TypeAdapter)


def _describe(cls: type, exc: ValidationError) -> str:
    """All of pydantic's errors as one line; unknown keys of one section together, with its valid keys.

    A union of dataclasses reports every member it tried; the members whose tag field (a one-value
    ``Literal`` such as ``arch``) refused the input are left out when another member remains.
    """
    located = [(err, *_locate(cls, err["loc"])) for err in exc.errors()]
    refused = {member for err, _, _, member, hint in located if err["type"] == "literal_error"
               and member == err["loc"][:-1] and len(get_args(hint)) == 1}
    unknown: dict[str, list[str]] = {}  # "; valid keys here: ..." -> unknown dotted keys
    parts: list[str] = []
    for err, key, owner, _, _ in [item for item in located if item[3] not in refused] or located:
        if err["type"] == "unexpected_keyword_argument":
            names = sorted(f.name for f in dataclasses.fields(owner)) if owner else []
            valid = f"; valid keys here: {', '.join(names)}" if names else ""
            unknown.setdefault(valid, []).append(key)
        elif err["type"] == "missing":
            parts.append(f"missing required key {key}")
        elif err["type"] == "value_error":  # a __post_init__ check: its message names the key
            parts.append(str(err.get("ctx", {}).get("error", err["msg"])))
        else:
            parts.append(f"{key or 'config'}: {err['msg']}, got {err['input']!r}")
    parts[:0] = [f"unknown key(s) {', '.join(keys)}{valid}" for valid, keys in unknown.items()]
    return "; ".join(dict.fromkeys(parts))


def _locate(cls: type, loc: tuple[int | str, ...]) -> tuple[str, Any, tuple[int | str, ...] | None, Any]:
    """Dotted key of an error location, the dataclass holding its last part, the union member, the type.

    pydantic puts the member's tag (or class name) after a field that holds a union of dataclasses;
    the tag is no key of the config: it only selects the member, whose location (up to the tag) is
    returned third (``None`` outside unions). Last comes the declared type of the key.
    """
    names: list[str] = []
    owner: Any = None
    member: tuple[int | str, ...] | None = None
    tp: Any = cls
    for i, part in enumerate(loc):
        options = [a for a in get_args(tp) if dataclasses.is_dataclass(a)] \
            if get_origin(tp) in (Union, types.UnionType) else []
        if len(options) > 1:
            tp = next((m for m in options if part == m.__name__
                       or part in [f.default for f in dataclasses.fields(m)]), None)
            member = loc[: i + 1]
            continue
        tp = options[0] if options else tp
        owner = tp if dataclasses.is_dataclass(tp) else None
        tp = get_type_hints(tp).get(str(part)) if owner is not None else None
        names.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(names).lstrip("."), owner, member, tp
