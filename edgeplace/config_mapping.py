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


#: Keys RLlib's algorithm configs merge into every module's ``model_config`` (PPOConfig's
#: ``_model_config_auto_includes``): module configs accept them and leave them to RLlib.
RLLIB_MODEL_CONFIG_KEYS = frozenset({"vf_share_layers"})


def model_config_values(
    cls: type,
    model_config: Mapping[str, Any] | None,
    where: str,
    *,
    shared_with: tuple[type, ...] = (),
    ignored: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The fields of the dataclass ``cls`` present in an RLlib ``model_config``.

    A module whose ``model_config`` holds several configs names the others in ``shared_with``; their
    fields, RLlib's own keys (:data:`RLLIB_MODEL_CONFIG_KEYS`) and ``ignored`` ones are accepted and
    skipped. Any other key raises ValueError naming it (a typo is never silently dropped).
    """
    model_config = model_config or {}
    known = {f.name for owner in (cls, *shared_with) for f in dataclasses.fields(owner)}
    unknown = sorted(set(model_config) - known - RLLIB_MODEL_CONFIG_KEYS - ignored)
    if unknown:
        raise ValueError(f"{where}: unknown model_config keys {unknown}; known: {sorted(known)}")
    return {f.name: model_config[f.name] for f in dataclasses.fields(cls) if f.name in model_config}
