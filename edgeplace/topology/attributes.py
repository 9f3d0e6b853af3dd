"""The one rule by which a scenario runs on any topology: it draws the node attributes it needs and the
topology lacks.

A scenario declares its needs as a tuple of :class:`AttributeNeed`: a node resource, node feature,
affinity tag or the tiers, each with the distribution its paper's spec gives (see
:mod:`edgeplace.topology.distributions`). :func:`with_attributes` then goes through the needs in order:

- an attribute the substrate has (by name: a column of ``capacity``, a key of ``node_features`` or
  ``affinity``, or ``tier``) is kept as it is, in the topology's units, never redrawn;
- a missing one is drawn from ``np.random.default_rng([seed, crc32(substrate.name),
  crc32("<kind>:<name>")])``: a generator of its own, so one attribute's values depend only on the seed,
  the substrate (its name, which the topology URI sets) and the attribute (and on the attributes before
  it that its distribution reads, e.g. the tiers), not on which others were missing;
- drawn resources are appended to ``capacity`` in need order, after the topology's own;
- a need marked ``positive`` (a divisor in the scenario's model) refuses a value <= 0, drawn or not.

The same topology URI, needs and seed give the same substrate. :func:`load_with_attributes` loads a URI
and applies the rule, naming the URI in every error; :func:`keep_resources` then narrows ``capacity``
to the resources a scenario allocates, in its order.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from edgeplace.topology.distributions import NodeDistribution
from edgeplace.topology.errors import TopologyError
from edgeplace.topology.substrate import Substrate
from edgeplace.topology.uri import load_topology


class AttributeKind(StrEnum):
    """Where a node attribute lives on a :class:`Substrate`."""

    RESOURCE = "resource"
    """A column of ``capacity`` (``resource_names``)."""
    FEATURE = "feature"
    """A key of ``node_features``."""
    AFFINITY = "affinity"
    """A key of ``affinity`` (drawn values are booleans)."""
    TIER = "tier"
    """The ``tier`` array (the need's name is ``"tier"``)."""


@dataclass(frozen=True)
class AttributeNeed:
    """A node attribute a scenario reads, and how to draw it where a topology lacks it."""

    kind: AttributeKind
    name: str
    distribution: NodeDistribution
    positive: bool = False
    """Every node's value must be > 0 (the topology's own values too): the scenario divides by it."""

    @classmethod
    def resource(cls, name: str, distribution: NodeDistribution, *, positive: bool = False) -> AttributeNeed:
        return cls(AttributeKind.RESOURCE, str(name), distribution, positive)

    @classmethod
    def feature(cls, name: str, distribution: NodeDistribution, *, positive: bool = False) -> AttributeNeed:
        return cls(AttributeKind.FEATURE, str(name), distribution, positive)

    @classmethod
    def affinity(cls, name: str, distribution: NodeDistribution) -> AttributeNeed:
        return cls(AttributeKind.AFFINITY, str(name), distribution)

    @classmethod
    def tier(cls, distribution: NodeDistribution) -> AttributeNeed:
        return cls(AttributeKind.TIER, AttributeKind.TIER.value, distribution)

    @property
    def key(self) -> str:
        """``"<kind>:<name>"``, part of the seed of its draws."""
        return f"{self.kind}:{self.name}"

    def values(self, substrate: Substrate) -> np.ndarray | None:
        """The substrate's own values of this attribute, or None if it has none. Shapes: (N,)."""
        if self.kind is AttributeKind.RESOURCE:
            names = substrate.resource_names
            return substrate.capacity[:, names.index(self.name)] if self.name in names else None
        if self.kind is AttributeKind.FEATURE:
            return substrate.node_features.get(self.name)
        if self.kind is AttributeKind.AFFINITY:
            return substrate.affinity.get(self.name)
        return substrate.tier

    def describe(self) -> str:
        """One line for docs and errors, e.g. ``"resource compute: integers uniform in [16, 55]"``."""
        bound = " (> 0)" if self.positive else ""
        return f"{self.kind} {self.name}: {self.distribution.describe()}{bound}"


def with_attributes(
    substrate: Substrate, needs: Sequence[AttributeNeed], seed: int, *, source: str | None = None
) -> Substrate:
    """``substrate`` with every attribute of ``needs`` it lacks drawn by the module's rule.

    Raises:
        TopologyError: a ``positive`` need with a value <= 0, or a distribution that cannot draw on this
            substrate (e.g. per-tier values without tiers), naming ``source`` (default: the substrate's
            name, e.g. the topology URI) and the attribute.
        ValueError: a negative seed, or two needs of the same kind and name.
    """
    keys = [need.key for need in needs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"attribute needs repeat an attribute: {keys}")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"attribute seed must be an integer >= 0, got {seed!r}")
    try:
        return _filled(substrate, needs, int(seed))
    except TopologyError as err:
        raise TopologyError(err.message, source=source or substrate.name, field=err.field) from err


def load_with_attributes(uri: str, needs: Sequence[AttributeNeed], seed: int) -> Substrate:
    """``with_attributes(load_topology(uri), needs, seed)``; every error names ``uri``."""
    return with_attributes(load_topology(uri), needs, seed, source=uri)


def _filled(substrate: Substrate, needs: Sequence[AttributeNeed], seed: int) -> Substrate:
    """The rule of the module docstring, need after need."""
    topology = zlib.crc32(substrate.name.encode())
    for need in needs:
        values = need.values(substrate)
        if values is None:
            rng = np.random.default_rng([seed, topology, zlib.crc32(need.key.encode())])
            values = need.distribution.sample(rng, substrate)
            substrate = _added(substrate, need, values)
        if need.positive and (values <= 0).any():
            node = int(np.flatnonzero(values <= 0)[0])
            raise TopologyError(
                f"{need.kind} must be > 0 on every node; node id {int(substrate.node_ids[node])} has "
                f"{float(values[node]):g}",
                source=substrate.name,
                field=need.name,
            )
    return substrate


def keep_resources(substrate: Substrate, names: Sequence[str]) -> Substrate:
    """``substrate`` with exactly the resources ``names``, in that order (the scenario's ledger columns).

    Raises:
        TopologyError: a name the substrate lacks (naming it and the substrate).
    """
    names = tuple(str(name) for name in names)
    if names == substrate.resource_names:
        return substrate
    columns = [substrate.resource_index(name) for name in names]
    return dataclasses.replace(substrate, resource_names=names, capacity=substrate.capacity[:, columns])


def _added(substrate: Substrate, need: AttributeNeed, values: np.ndarray) -> Substrate:
    """``substrate`` with ``values`` (N,) stored as ``need``'s attribute."""
    if need.kind is AttributeKind.RESOURCE:
        return dataclasses.replace(
            substrate,
            resource_names=(*substrate.resource_names, need.name),
            capacity=np.column_stack([substrate.capacity, values]),
        )
    if need.kind is AttributeKind.FEATURE:
        return dataclasses.replace(substrate, node_features={**substrate.node_features, need.name: values})
    if need.kind is AttributeKind.AFFINITY:
        return dataclasses.replace(substrate, affinity={**substrate.affinity, need.name: values})
    return dataclasses.replace(substrate, tier=values)
