"""Strict checks of values read from a sweep file: every error names the offending key path."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")


class SweepSpecError(ValueError):
    """A sweep file is invalid; the message starts with the key path, e.g. ``train.num_epochs: ...``."""


def key_path(*parts: str) -> str:
    """Dotted key path of a nested value (empty parts are skipped)."""
    return ".".join(part for part in parts if part)


def require_mapping(path: str, value: Any) -> Mapping[str, Any]:
    """``value`` as a mapping with string keys, or an error naming ``path``."""
    if not isinstance(value, Mapping):
        raise SweepSpecError(f"{path}: expected a mapping, got {value!r}")
    for key in value:
        if not isinstance(key, str):
            raise SweepSpecError(f"{path}: keys must be strings, got {key!r}")
    return value


def reject_unknown_keys(path: str, values: Mapping[str, Any], known: Sequence[str]) -> None:
    """Fail on the first key of ``values`` that is not in ``known`` (the message lists the known ones)."""
    for key in values:
        if key not in known:
            raise SweepSpecError(f"{key_path(path, key)}: unknown key; known: {sorted(known)}")


def dataclass_from_mapping(
    path: str,
    cls: type[T],
    raw: Any,
    parsers: Mapping[str, Callable[[str, Any], Any]] | None = None,
) -> T:
    """Build the frozen dataclass ``cls`` from a YAML mapping: unknown keys and wrong types are rejected
    by key path, fields listed in ``parsers`` are parsed by them (called with the key path and the raw
    value), and errors of ``__post_init__`` (which start with the field name) are prefixed with ``path``.
    """
    parsers = parsers or {}
    hints = get_type_hints(cls)
    values = require_mapping(path, raw if raw is not None else {})
    reject_unknown_keys(path, values, [f.name for f in dataclasses.fields(cls)])
    checked = {
        name: parsers[name](key_path(path, name), value)
        if name in parsers
        else check_type(key_path(path, name), value, hints[name])
        for name, value in values.items()
    }
    try:
        return cls(**checked)
    except ValueError as err:
        raise SweepSpecError(f"{path}.{err}" if path else str(err)) from None


def check_type(path: str, value: Any, annotation: Any) -> Any:
    """``value`` checked against a field annotation (int, float, bool, str, StrEnum, Mapping, tuples,
    unions); ints are accepted and converted where a float is expected. Returns the checked value."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        for option in get_args(annotation):
            try:
                return check_type(path, value, option)
            except SweepSpecError:
                continue
        raise _mismatch(path, value, " | ".join(_type_name(option) for option in get_args(annotation)))
    if annotation is type(None):
        if value is not None:
            raise _mismatch(path, value, "null")
        return value
    if annotation is Any:
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise _mismatch(path, value, "bool")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _mismatch(path, value, "int")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _mismatch(path, value, "float")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise _mismatch(path, value, "str")
        return value
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = [member.value for member in annotation]
        if value not in choices:
            raise SweepSpecError(f"{path}: expected one of {choices}, got {value!r}")
        return annotation(value)
    if origin is not None and issubclass(origin, Mapping):
        return dict(require_mapping(path, value))
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise _mismatch(path, value, "list")
        (item,) = {arg for arg in get_args(annotation) if arg is not Ellipsis}
        return tuple(check_type(f"{path}[{i}]", entry, item) for i, entry in enumerate(value))
    raise TypeError(f"{path}: unsupported field annotation {annotation!r}")


def _type_name(annotation: Any) -> str:
    return "null" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))


def _mismatch(path: str, value: Any, expected: str) -> SweepSpecError:
    return SweepSpecError(f"{path}: expected {expected}, got {value!r}")
