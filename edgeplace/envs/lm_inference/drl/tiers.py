"""The two tiers of the hierarchical DRL baseline (spec e, "Hierarchical DRL") and their agent ids.

- upper: one routing agent per origin (``origin_<node>``), MAPPO with shared weights;
- lower: one deployment agent per node (``node_<node>``), independent DQN.
"""

from __future__ import annotations

from enum import StrEnum

from edgeplace.envs.lm_inference.cluster import Cluster

ORIGIN_PREFIX = "origin_"
NODE_PREFIX = "node_"


class Tier(StrEnum):
    """A tier of the DRL hierarchy."""

    UPPER = "upper"
    """Routing: a destination per LM for each origin's requests."""
    LOWER = "lower"
    """Deployment: a mode vector per node, completed by the completion rule."""

    @property
    def other(self) -> Tier:
        """The tier that is frozen while this one trains."""
        return Tier.LOWER if self is Tier.UPPER else Tier.UPPER


def origin_ids(cluster: Cluster) -> tuple[str, ...]:
    """``origin_<node name>`` of every worker, in node order."""
    return tuple(f"{ORIGIN_PREFIX}{name}" for name in cluster.names)


def node_ids(cluster: Cluster) -> tuple[str, ...]:
    """``node_<node name>`` of every worker, in node order."""
    return tuple(f"{NODE_PREFIX}{name}" for name in cluster.names)


def tier_agents(cluster: Cluster, tier: Tier) -> tuple[str, ...]:
    """The agents of ``tier``, in node order."""
    return origin_ids(cluster) if tier is Tier.UPPER else node_ids(cluster)
