"""Search-space dimensions of a sweep file and their Ray Tune samplers.

In YAML each dimension is ``KEY: {SAMPLER: VALUES}``::

    lr: {loguniform: [1.0e-5, 1.0e-3]}     # bounds, sampled log-uniformly
    clip_param: {uniform: [0.1, 0.3]}       # bounds, sampled uniformly
    entropy_coeff: {choice: [0.0, 0.01]}    # one value per sample, drawn at random
    num_epochs: {grid: [5, 10]}             # every value, for every sample (a grid multiplies trials)

KEY is a TrainConfig field, ``model.FIELD``, ``env_config.FIELD`` or ``algo_options.FIELD``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ray import tune

from edgeplace.tuning.typecheck import SweepSpecError, key_path, require_mapping

#: Separates a nested key (``model.d_model``) into the TrainConfig field and its sub-key.
KEY_SEPARATOR = "."


class Sampler(StrEnum):
    """How a dimension is sampled."""

    GRID = "grid"
    CHOICE = "choice"
    UNIFORM = "uniform"
    LOGUNIFORM = "loguniform"


#: Samplers that draw a float between two bounds.
CONTINUOUS = (Sampler.UNIFORM, Sampler.LOGUNIFORM)


@dataclass(frozen=True)
class SearchDimension:
    """One hyperparameter of the search space."""

    key: str
    """The key as written: a TrainConfig field or ``model|env_config|algo_options.FIELD``."""
    sampler: Sampler
    """How values are drawn."""
    values: tuple[Any, ...]
    """Grid / choice values, or the (low, high) bounds of a continuous sampler."""

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"{self.key}: {self.sampler} needs at least one value")
        if self.sampler in CONTINUOUS:
            if len(self.values) != 2 or not all(_is_number(v) for v in self.values):
                raise ValueError(f"{self.key}: {self.sampler} needs [low, high] numbers, got {self.values}")
            low, high = self.values
            if not low < high:
                raise ValueError(f"{self.key}: {self.sampler} needs low < high, got {self.values}")
            if self.sampler is Sampler.LOGUNIFORM and low <= 0:
                raise ValueError(f"{self.key}: loguniform needs low > 0, got {low}")

    @property
    def path(self) -> tuple[str, ...]:
        """The key split into the TrainConfig field and an optional sub-key."""
        return tuple(self.key.split(KEY_SEPARATOR, 1))

    def to_tune(self) -> Any:
        """The Ray Tune sampler of this dimension."""
        if self.sampler is Sampler.GRID:
            return tune.grid_search(list(self.values))
        if self.sampler is Sampler.CHOICE:
            return tune.choice(list(self.values))
        low, high = self.values
        return tune.uniform(low, high) if self.sampler is Sampler.UNIFORM else tune.loguniform(low, high)


def parse_dimensions(path: str, raw: Any) -> tuple[SearchDimension, ...]:
    """Parse ``{KEY: {SAMPLER: VALUES}}`` (structure only; the keys are checked by the caller)."""
    dimensions = []
    for key, spec in require_mapping(path, raw).items():
        where = key_path(path, key)
        spec = require_mapping(where, spec)
        if len(spec) != 1:
            raise SweepSpecError(f"{where}: expected one sampler such as {{choice: [...]}}, got {dict(spec)}")
        ((name, values),) = spec.items()
        if name not in set(Sampler):
            raise SweepSpecError(f"{where}: unknown sampler {name!r}; known: {sorted(Sampler)}")
        if not isinstance(values, list):
            raise SweepSpecError(f"{where}.{name}: expected a list, got {values!r}")
        try:
            dimensions.append(SearchDimension(key, Sampler(name), tuple(values)))
        except ValueError as err:
            raise SweepSpecError(f"{path}.{err}") from None
    return tuple(dimensions)


def nest(dimensions: tuple[SearchDimension, ...], values: Mapping[str, Any]) -> dict[str, Any]:
    """``{key: value}`` of flat dimension keys -> a dict nested like TrainConfig (``model.d_model`` ->
    ``{"model": {"d_model": ...}}``)."""
    out: dict[str, Any] = {}
    for dimension in dimensions:
        field, *sub = dimension.path
        if sub:
            out.setdefault(field, {})[sub[0]] = values[dimension.key]
        else:
            out[field] = values[dimension.key]
    return out


def overlay(base: Mapping[str, Any], nested: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` (a TrainConfig dict) with ``nested`` values on top; mapping fields (``model``,
    ``env_config``, ``algo_options``) are merged key by key rather than replaced."""
    out = dict(base)
    for field, value in nested.items():
        out[field] = {**out[field], **value} if isinstance(out[field], Mapping) else value
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
