"""Seeded per-node distributions: how a scenario draws a node attribute that a topology lacks.

Every distribution turns a generator and a substrate into one value per node,
``sample(rng, substrate) -> (N,)``, and says in words what it draws (``describe()``, quoted in errors
and docs). Value distributions (:class:`Choice`, :class:`UniformInt`, :class:`Uniform`) draw the nodes
independently; :class:`PerTier` draws each tier's nodes from its own value distribution;
:class:`TierMix` assigns tiers and :class:`Tagged` marks a share of the nodes of some tiers (the
AgentVNE substrate's rules, which the ``waxman`` generator uses too).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from edgeplace.topology.errors import TopologyError
from edgeplace.topology.names import Tier
from edgeplace.topology.substrate import Substrate


class NodeDistribution(ABC):
    """One value per node of a substrate."""

    @abstractmethod
    def sample(self, rng: np.random.Generator, substrate: Substrate) -> np.ndarray:
        """Shapes: returns (N,) for the N nodes of ``substrate``."""

    @abstractmethod
    def describe(self) -> str:
        """What it draws, in words."""


class ValueDistribution(NodeDistribution):
    """Independent draws, the same distribution on every node."""

    @abstractmethod
    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Shapes: returns (size,) float64."""

    def sample(self, rng: np.random.Generator, substrate: Substrate) -> np.ndarray:
        return self.draw(rng, substrate.num_nodes)


@dataclass(frozen=True)
class Choice(ValueDistribution):
    """Uniform over ``values``."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values or not np.isfinite(self.values).all():
            raise ValueError(f"Choice: values must be non-empty and finite, got {self.values!r}")

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=np.float64), size)

    def describe(self) -> str:
        return f"uniform over {list(self.values)}"


@dataclass(frozen=True)
class UniformInt(ValueDistribution):
    """Integers uniform in ``[low, high]`` (both included), as float64."""

    low: int
    high: int

    def __post_init__(self) -> None:
        if int(self.low) != self.low or int(self.high) != self.high or self.low > self.high:
            raise ValueError(f"UniformInt: expected integers low <= high, got {self.low!r}, {self.high!r}")

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.integers(self.low, self.high + 1, size).astype(np.float64)

    def describe(self) -> str:
        return f"integers uniform in [{self.low}, {self.high}]"


@dataclass(frozen=True)
class Uniform(ValueDistribution):
    """Uniform in ``[low, high)``; ``low == high`` is the constant ``low``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.low) and np.isfinite(self.high) and self.low <= self.high):
            raise ValueError(f"Uniform: expected finite low <= high, got {self.low!r}, {self.high!r}")

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)

    def describe(self) -> str:
        return f"uniform in [{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class PerTier(NodeDistribution):
    """Each tier's nodes from that tier's distribution, tiers in the order given (needs ``tier``)."""

    by_tier: tuple[tuple[Tier, ValueDistribution], ...]

    def sample(self, rng: np.random.Generator, substrate: Substrate) -> np.ndarray:
        tier = _tiers(substrate, self)
        values = np.zeros(substrate.num_nodes)
        covered = np.zeros(substrate.num_nodes, dtype=bool)
        for level, distribution in self.by_tier:
            nodes = np.flatnonzero(tier == level)
            values[nodes] = distribution.draw(rng, nodes.size)
            covered[nodes] = True
        if not covered.all():
            node = int(np.flatnonzero(~covered)[0])
            raise TopologyError(
                f"node id {int(substrate.node_ids[node])} has tier {int(tier[node])}, which "
                f"{self.describe()} does not cover",
                source=substrate.name,
                field="tier",
            )
        return values

    def describe(self) -> str:
        parts = ", ".join(f"{Tier(level).name.lower()}: {dist.describe()}" for level, dist in self.by_tier)
        return f"by tier ({parts})"


@dataclass(frozen=True)
class TierMix(NodeDistribution):
    """``max(1, round(cloud_fraction N))`` cloud nodes, then ``max(1, round(edge_fraction N))`` edge
    nodes (fewer when N is tiny), the rest access, assigned by one seeded permutation."""

    cloud_fraction: float
    edge_fraction: float

    def __post_init__(self) -> None:
        cloud, edge = self.cloud_fraction, self.edge_fraction
        if not (cloud >= 0 and edge >= 0 and cloud + edge <= 1):
            raise ValueError(f"TierMix: fractions must be >= 0 and sum to <= 1, got {cloud}, {edge}")

    def assign(self, rng: np.random.Generator, nodes: int) -> np.ndarray:
        """Tiers of ``nodes`` nodes (one ``rng.permutation`` draw). Shapes: returns (nodes,) int64."""
        n_cloud = min(nodes, max(1, round(self.cloud_fraction * nodes)))
        n_edge = min(nodes - n_cloud, max(1, round(self.edge_fraction * nodes)))
        tier = np.full(nodes, Tier.ACCESS, dtype=np.int64)
        order = rng.permutation(nodes)
        tier[order[:n_cloud]] = Tier.CLOUD
        tier[order[n_cloud : n_cloud + n_edge]] = Tier.EDGE
        return tier

    def sample(self, rng: np.random.Generator, substrate: Substrate) -> np.ndarray:
        return self.assign(rng, substrate.num_nodes)

    def describe(self) -> str:
        return (
            f"max(1, round({self.cloud_fraction:g} N)) cloud, max(1, round({self.edge_fraction:g} N)) edge, "
            "the rest access, by a seeded permutation"
        )


@dataclass(frozen=True)
class Tagged(NodeDistribution):
    """A tag on ``max(minimum, round(fraction N))`` nodes shared by ``parts`` tags: this tag takes part
    ``part`` of them (parts differ by at most one node, later parts the larger), on nodes of ``tiers``
    chosen uniformly without replacement (fewer if fewer nodes have those tiers). Needs ``tier``."""

    fraction: float
    minimum: int
    tiers: tuple[Tier, ...]
    part: int = 0
    parts: int = 1

    def __post_init__(self) -> None:
        if not (0 <= self.fraction <= 1 and self.minimum >= 0 and 0 <= self.part < self.parts and self.tiers):
            raise ValueError(f"Tagged: bad parameters {self!r}")

    def count(self, nodes: int) -> int:
        """How many of ``nodes`` nodes this tag is meant for."""
        total = max(self.minimum, round(self.fraction * nodes))
        return total * (self.part + 1) // self.parts - total * self.part // self.parts

    def assign(self, rng: np.random.Generator, tier: np.ndarray) -> np.ndarray:
        """The tagged nodes (one ``rng.choice`` draw). Shapes: tier (N,) -> (N,) bool."""
        candidates = np.flatnonzero(np.isin(tier, self.tiers))
        tagged = np.zeros(tier.size, dtype=bool)
        tagged[rng.choice(candidates, size=min(self.count(tier.size), candidates.size), replace=False)] = True
        return tagged

    def sample(self, rng: np.random.Generator, substrate: Substrate) -> np.ndarray:
        return self.assign(rng, _tiers(substrate, self))

    def describe(self) -> str:
        share = f"part {self.part + 1} of {self.parts} of " if self.parts > 1 else ""
        tiers = "/".join(Tier(level).name.lower() for level in self.tiers)
        return f"{share}max({self.minimum}, round({self.fraction:g} N)) {tiers} nodes"


def _tiers(substrate: Substrate, distribution: NodeDistribution) -> np.ndarray:
    if substrate.tier is None:
        raise TopologyError(
            f"{distribution.describe()} needs node tiers; the substrate has none (declare a tier need first)",
            source=substrate.name,
            field="tier",
        )
    return substrate.tier
