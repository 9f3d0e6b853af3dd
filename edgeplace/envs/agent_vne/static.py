"""The static part of the agent-vne network: capacities, attributes, routes and reference scales.

Everything here is fixed for a topology, ``attribute_seed``, ``capacity_scale`` and
``bandwidth_scale``; the env, the baselines and the model side (through :func:`static_network`) share one
copy per process. Observations carry only the dynamic state (see
:mod:`edgeplace.envs.agent_vne.observation`).

Any topology serves: :data:`NODE_ATTRIBUTES` are the node attributes the scenario reads (tiers, the
three capacities, the TEE / camera tags), drawn by spec b's substrate defaults where the topology lacks
them (the rule of :mod:`edgeplace.topology.attributes`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgeplace.envs.agent_vne.params import AgentVNEConfig
from edgeplace.topology import (
    AttributeNeed,
    PerTier,
    Substrate,
    Tier,
    Uniform,
    keep_resources,
    load_with_attributes,
    padded_adjacency,
)
from edgeplace.topology.generators import (
    WAXMAN_CAPACITY_HIGH,
    WAXMAN_CAPACITY_LOW,
    WAXMAN_RESOURCES,
    WAXMAN_TAGS,
    WAXMAN_TIERS,
)

MBPS_PER_MB_S = 8.0
"""Mbit/s per MB/s: workflows state bandwidth in Mbit/s, the substrate and its Ledger in MB/s."""
NO_EDGE = -1
"""Padding of :attr:`StaticNetwork.path_edges`."""
RESOURCES = WAXMAN_RESOURCES
"""The node resources a workflow takes, in ledger column order (spec b: cpu, mem, sto)."""
#: Spec b's substrate defaults ("Defaults we chose": tier mix, capacity by tier, attributes), for
#: topologies without them. Tiers come first: the capacities and tags are drawn by tier.
NODE_ATTRIBUTES = (
    AttributeNeed.tier(WAXMAN_TIERS),
    *(
        AttributeNeed.resource(
            name,
            PerTier(
                tuple(
                    (tier, Uniform(float(WAXMAN_CAPACITY_LOW[tier, r]), float(WAXMAN_CAPACITY_HIGH[tier, r])))
                    for tier in Tier
                )
            ),
        )
        for r, name in enumerate(RESOURCES)
    ),
    *(AttributeNeed.affinity(tag, rule) for tag, rule in WAXMAN_TAGS.items()),
)


@dataclass(frozen=True, eq=False)
class StaticNetwork:
    """Static arrays of one agent-vne substrate (all read-only).

    Shapes (N nodes, E links, A attribute tags, D = diameter; Ns = max_nodes, Es = max_edges):
        capacity: (N, 3) float64, scaled capacities (compute, memory, storage).
        bandwidth_mbps: (E,) float64, link bandwidth B_e in Mbit/s.
        edge_index: (2, E) int64, src < dst.
        attributes: (N, A) bool, column a holds tag ``attribute_names[a]``.
        hops: (N, N) int64 min-hop route lengths; next_hop: (N, N) int64 (-1 on the diagonal).
        path_edges: (N, N, max(D, 1)) int64, link ids of the route src -> dst, padded with -1.
        adjacency: (Ns, Ns) float32 0/1, zero in padded rows and columns.
        ref_capacity: (3,) float64, the largest capacity per dimension (feature scale ref_d).
        ref_bw_mbps: largest per-node sum of incident bandwidth (feature scale ref_bw).
        incident_bw_mbps: (N,) float64, per-node sum of incident bandwidth.
    """

    substrate: Substrate
    max_nodes: int
    max_edges: int
    capacity: np.ndarray
    bandwidth_mbps: np.ndarray
    edge_index: np.ndarray
    attribute_names: tuple[str, ...]
    attributes: np.ndarray
    hops: np.ndarray
    next_hop: np.ndarray
    path_edges: np.ndarray
    adjacency: np.ndarray
    ref_capacity: np.ndarray
    ref_bw_mbps: float
    incident_bw_mbps: np.ndarray

    @property
    def num_nodes(self) -> int:
        """N."""
        return self.substrate.num_nodes

    @property
    def num_edges(self) -> int:
        """E."""
        return self.substrate.num_edges

    @property
    def diameter(self) -> int:
        """Largest hop count between two nodes (k_max of the decoder)."""
        return int(self.hops.max())

    @classmethod
    def build(
        cls,
        substrate: Substrate,
        max_nodes: int | None = None,
        max_edges: int | None = None,
        *,
        source: str | None = None,
    ) -> StaticNetwork:
        """Precompute the tables of ``substrate`` (once per substrate; O(N^2 D)); errors name ``source``
        (the topology URI; default the substrate's name)."""
        n, e = substrate.num_nodes, substrate.num_edges
        max_nodes = n if max_nodes is None else int(max_nodes)
        max_edges = e if max_edges is None else int(max_edges)
        where = source or substrate.name
        if max_nodes < n or max_edges < e:
            raise ValueError(
                f"{where}: {n} nodes / {e} links exceed max_nodes={max_nodes} / max_edges={max_edges}"
            )
        if substrate.resource_names != RESOURCES:
            raise ValueError(
                f"{where}: agent-vne allocates the resources {list(RESOURCES)} in this order, got "
                f"{list(substrate.resource_names)} (see scaled_substrate)"
            )
        names = tuple(substrate.affinity)
        attributes = (
            np.stack([substrate.affinity[a] for a in names], axis=1) if names else np.zeros((n, 0), bool)
        )
        bandwidth = substrate.bandwidth_mb_s * MBPS_PER_MB_S
        incident = np.bincount(substrate.edge_index.ravel(), weights=np.tile(bandwidth, 2), minlength=n)
        paths = substrate.paths
        return cls(
            substrate=substrate,
            max_nodes=max_nodes,
            max_edges=max_edges,
            capacity=_frozen(substrate.capacity.copy()),
            bandwidth_mbps=_frozen(bandwidth),
            edge_index=substrate.edge_index,
            attribute_names=names,
            attributes=_frozen(attributes),
            hops=paths.hops,
            next_hop=paths.next_hop,
            path_edges=_frozen(_path_edge_table(paths.hops, paths.predecessor, paths.edge_id)),
            adjacency=_frozen(padded_adjacency(substrate, max_nodes)),
            ref_capacity=_frozen(substrate.capacity.max(axis=0)),
            ref_bw_mbps=float(incident.max()) if e else 1.0,
            incident_bw_mbps=_frozen(incident),
        )


def scaled_substrate(
    uri: str, capacity_scale: float, bandwidth_scale: float = 1.0, attribute_seed: int = 0
) -> Substrate:
    """The substrate of ``uri`` with its missing :data:`NODE_ATTRIBUTES` drawn from ``attribute_seed``,
    narrowed to :data:`RESOURCES`, every node capacity multiplied by ``capacity_scale`` and every link
    bandwidth by ``bandwidth_scale``; its name says all four."""
    substrate = keep_resources(load_with_attributes(uri, NODE_ATTRIBUTES, attribute_seed), RESOURCES)
    return dataclasses.replace(
        substrate,
        name=(
            f"{substrate.name},attribute_seed={attribute_seed},capacity_scale={capacity_scale},"
            f"bandwidth_scale={bandwidth_scale}"
        ),
        capacity=substrate.capacity * capacity_scale,
        bandwidth_mb_s=substrate.bandwidth_mb_s * bandwidth_scale,
    )


@functools.lru_cache(maxsize=16)
def _cached(
    uri: str,
    attribute_seed: int,
    capacity_scale: float,
    bandwidth_scale: float,
    max_nodes: int | None,
    max_edges: int | None,
) -> StaticNetwork:
    substrate = scaled_substrate(uri, capacity_scale, bandwidth_scale, attribute_seed)
    return StaticNetwork.build(substrate, max_nodes, max_edges, source=uri)


def static_network(env_config: Mapping[str, Any] | AgentVNEConfig | None) -> StaticNetwork:
    """The static network an env built from ``env_config`` uses (cached per process)."""
    config = AgentVNEConfig.from_env_config(env_config)
    return _cached(
        config.topology,
        config.attribute_seed,
        float(config.capacity_scale),
        float(config.bandwidth_scale),
        config.max_nodes,
        config.max_edges,
    )


def _path_edge_table(hops: np.ndarray, predecessor: np.ndarray, edge_id: np.ndarray) -> np.ndarray:
    """Link ids of every route, walked back from the destination, one hop level per iteration.

    Shapes: hops, predecessor, edge_id (N, N) -> (N, N, max(D, 1)) int64, -1 padded.
    """
    n = hops.shape[0]
    depth = max(int(hops.max()), 1)
    table = np.full((n, n, depth), NO_EDGE, dtype=np.int64)
    src = np.arange(n)[:, None].repeat(n, axis=1)
    node = np.arange(n)[None, :].repeat(n, axis=0)
    for level in range(depth):
        active = hops > level
        prev = np.where(active, predecessor[src, node], node)
        table[..., level] = np.where(active, edge_id[prev, node], NO_EDGE)
        node = prev
    return table


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array
