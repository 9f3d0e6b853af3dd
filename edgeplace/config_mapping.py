"""Frozen-dataclass configs built from plain mappings (RLlib ``env_config``, ``model_config``, settings
dicts), rejecting unknown keys by name instead of failing on a TypeError or silently ignoring them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def reject_unknown_keys(cls: type, values: Mapping[str, Any], where: str) -> None:
    """Raise ValueError naming the keys of ``values`` that are not fields of the dataclass ``cls``."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; known: {sorted(known)}")


def from_mapping(
    cls: type[T], values: Mapping[str, Any] | None, where: str, nested: Mapping[str, type] | None = None
) -> T:
    """``cls(**values)`` after :func:`reject_unknown_keys`; ``where`` prefixes the error. Fields named in
    ``nested`` that arrive as mappings are built the same way as their dataclass (``where['field']``)."""
    values = dict(values or {})
    reject_unknown_keys(cls, values, where)
    for name, field_cls in (nested or {}).items():
        if isinstance(values.get(name), Mapping):
            values[name] = from_mapping(field_cls, values[name], f"{where}[{name!r}]")
    return cls(**values)
