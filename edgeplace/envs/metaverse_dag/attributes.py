"""The edge-server attributes the metaverse-dag scenario reads, and how they are drawn on topologies that
lack them (the one rule of :mod:`edgeplace.topology.attributes`; ``cell-cluster`` records zone, bands
and backhaul itself)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from edgeplace.topology import AttributeNeed, Choice, Substrate, TopologyError, Uniform, UniformInt
from edgeplace.topology.distributions import NodeDistribution
from edgeplace.topology.generators import CELL_MMW_PROB, CELL_THZ_PROB, CELL_ZONE_SHARES, CellFeature


class EsResource(StrEnum):
    """Edge-server resources of the scenario (R = {cpu, mem})."""

    VCPU = "vcpu"
    RAM_GB = "ram_gb"


@dataclass(frozen=True)
class ZoneBernoulli(NodeDistribution):
    """1.0 with the probability of each node's zone (needs the ``zone`` feature, drawn before it)."""

    prob_by_zone: tuple[float, ...]

    def sample(self, rng: np.random.Generator, substrate: Substrate) -> np.ndarray:
        zone = substrate.node_features.get(CellFeature.ZONE)
        if zone is None:
            raise TopologyError("needs the zone feature first", source=substrate.name, field=CellFeature.ZONE)
        return (
            rng.random(substrate.num_nodes) < np.asarray(self.prob_by_zone)[zone.astype(np.int64)]
        ).astype(np.float64)

    def describe(self) -> str:
        return f"1 with probability {list(self.prob_by_zone)} by zone"


_ZONE_DRAW = Choice(
    tuple(float(z) for z, share in enumerate(CELL_ZONE_SHARES) for _ in range(round(20 * share)))
)
NODE_ATTRIBUTES = (
    AttributeNeed.resource(EsResource.VCPU, UniformInt(6, 10), positive=True),
    AttributeNeed.resource(EsResource.RAM_GB, UniformInt(8, 16), positive=True),
    AttributeNeed.feature(CellFeature.ZONE, _ZONE_DRAW),
    AttributeNeed.feature(CellFeature.HAS_MMW, ZoneBernoulli(tuple(CELL_MMW_PROB))),
    AttributeNeed.feature(CellFeature.HAS_THZ, ZoneBernoulli(tuple(CELL_THZ_PROB))),
    AttributeNeed.feature(CellFeature.BACKHAUL_MB_S, Uniform(125.0, 250.0), positive=True),
)
"""ES vCPU U{6..10}, RAM U{8..16} GB, zone 45/35/20 %, mmWave / THz by zone, backhaul U[1, 2] Gbit/s."""
