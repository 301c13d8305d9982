"""Config machinery shared by every model family.

Configs are frozen dataclasses whose defaults are the paper's values. Presets are functions
registered by (family, name) that return a complete config. Command lines change single fields
with ``--set section.field=value``; the resolved config is written to ``config.json`` in the run
directory and read back on resume.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

_PRESETS: dict[str, dict[str, Callable[[], Any]]] = {}


def register_preset(family: str, name: str):
    """Decorator that registers a zero-argument function returning a config as a named preset."""

    def decorate(fn: Callable[[], Any]) -> Callable[[], Any]:
        _PRESETS.setdefault(family, {})[name] = fn
        return fn

    return decorate


def preset_names(family: str) -> list[str]:
    """Names of the presets registered for ``family``, sorted."""
    return sorted(_PRESETS.get(family, {}))


def get_preset(family: str, name: str):
    """Returns a fresh config for preset ``name`` of ``family``.

    Raises:
      ValueError: unknown family or preset; the message lists the valid names.
    """
    if family not in _PRESETS:
        raise ValueError(f"unknown model family '{family}'; known: {sorted(_PRESETS)}")
    if name not in _PRESETS[family]:
        raise ValueError(f"unknown preset '{name}' for {family}; choose one of {preset_names(family)}")
    return _PRESETS[family][name]()


def default_model_dir(family: str, preset: str) -> str:
    """``runs/<family>/<preset>``: where an experiment writes when --model_dir is not given."""
    return os.path.join("runs", family, preset)


def to_dict(config) -> dict[str, Any]:
    """Nested plain-dict view of a dataclass config (tuples become lists), JSON-serialisable."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def from_dict(cls, data: dict[str, Any]):
    """Rebuilds a (nested) dataclass config of type ``cls`` from :func:`to_dict` output.

    Raises:
      ValueError: a key is not a field of the config.
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown config fields for {cls.__name__}: {sorted(unknown)}")
    kwargs = {}
    for key, value in data.items():
        kwargs[key] = _convert(hints[key], value, key)
    return cls(**kwargs)


def save_json(config, path: str | Path) -> None:
    """Writes the resolved config to ``path`` as indented JSON."""
    Path(path).write_text(json.dumps(to_dict(config), indent=2, sort_keys=True) + "\n")


def load_json(cls, path: str | Path):
    """Reads a config written by :func:`save_json`."""
    return from_dict(cls, json.loads(Path(path).read_text()))


def apply_overrides(config, overrides: list[str] | tuple[str, ...]):
    """Returns ``config`` with ``section.field=value`` overrides applied.

    Values are parsed according to the field's annotated type (int, float, bool, str,
    optional and tuple types). Example: ``["train.batch_size=4", "model.ngf=32"]``.

    Raises:
      ValueError: malformed item, unknown field name or a value of the wrong type; the message
        names the offending item.
    """
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"--set expects key=value, got '{item}'")
        key, raw = item.split("=", 1)
        config = _replace_path(config, key.strip().split("."), raw.strip(), item)
    return config


def _replace_path(config, path: list[str], raw: str, item: str):
    if not dataclasses.is_dataclass(config):
        raise ValueError(f"cannot set '{item}': '{path[0]}' is not a config section")
    fields = {f.name: f for f in dataclasses.fields(config)}
    name = path[0]
    if name not in fields:
        raise ValueError(
            f"unknown config field '{name}' in '{item}'; fields here: {sorted(fields)}"
        )
    current = getattr(config, name)
    if len(path) > 1:
        return dataclasses.replace(config, **{name: _replace_path(current, path[1:], raw, item)})
    if dataclasses.is_dataclass(current):
        raise ValueError(f"'{item}' names a whole section; set one of its fields instead")
    hint = typing.get_type_hints(type(config))[name]
    return dataclasses.replace(config, **{name: _parse(hint, raw, item)})


def _parse(hint, raw: str, item: str):
    """Parses a command-line string into a value of type ``hint``."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if raw.lower() in ("none", "null") and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _parse(inner[0], raw, item)
    if origin is tuple:
        parts = [p for p in raw.strip("()[]").split(",") if p.strip()]
        elem = args[0] if args else str
        return tuple(_parse(elem, p.strip(), item) for p in parts)
    try:
        if hint is bool:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if hint is int:
            return int(raw)
        if hint is float:
            return float(raw)
    except ValueError:
        raise ValueError(f"'{item}': expected a value of type {hint.__name__}, got '{raw}'") from None
    return raw


def _convert(hint, value, key: str):
    """Converts a JSON value back to the annotated type (dataclass sections, tuples)."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _convert(inner[0], value, key)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    return value
