"""The decoupled request in numpy form: what the feasibility oracle, the decoder and the env act on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.agent_vne.static import StaticNetwork

NO_TARGET = -1
"""``anchor_target`` of an agent that is not an anchor."""


@dataclass(frozen=True, eq=False)
class VirtualRequest:
    """A workflow after decoupling: agents (anchors included) and directed virtual links.

    Shapes (V agents, L links, N substrate nodes):
        demand: (V, 3) float64 (compute, memory, storage); anchors demand 0.
        affinity: (V, A) bool, attribute tags (``StaticNetwork.attribute_names``) the host must hold.
        allowed: (V, N) bool, nodes holding every required tag (Eq.11); an anchor's row is its
            target only.
        is_anchor: (V,) bool; anchor_target: (V,) int64, the pinned node, -1 for other agents.
        links: (L, 2) int64 (u, v) agent pairs, flow u -> v; bw_mbps: (L,) float64 > 0; data_mb: (L,).
    """

    request_id: str
    demand: np.ndarray
    affinity: np.ndarray
    allowed: np.ndarray
    is_anchor: np.ndarray
    anchor_target: np.ndarray
    links: np.ndarray
    bw_mbps: np.ndarray
    data_mb: np.ndarray

    @property
    def num_agents(self) -> int:
        """V."""
        return int(self.demand.shape[0])

    @property
    def num_links(self) -> int:
        """L."""
        return int(self.links.shape[0])

    def degree(self) -> np.ndarray:
        """Undirected degree of each agent. Shapes: (V,) int64."""
        return np.bincount(self.links.ravel(), minlength=self.num_agents).astype(np.int64)

    def neighbours(self) -> list[list[tuple[int, int]]]:
        """Per agent, its (neighbour, link index) pairs in ascending neighbour id (undirected)."""
        out: list[list[tuple[int, int]]] = [[] for _ in range(self.num_agents)]
        for index, (u, v) in enumerate(self.links.tolist()):
            out[u].append((v, index))
            out[v].append((u, index))
        for pairs in out:
            pairs.sort()
        return out

    def normalised_demand(self, ref_capacity: np.ndarray) -> np.ndarray:
        """sum_d demand_d / ref_d per agent. Shapes: ref_capacity (3,) -> (V,) float64."""
        return (self.demand / ref_capacity).sum(axis=1)


def allowed_hosts(affinity: np.ndarray, anchor_target: np.ndarray, static: StaticNetwork) -> np.ndarray:
    """Nodes holding every required tag; an anchor only on its target. Shapes: (V, A), (V,) -> (V, N) bool."""
    allowed = ~(affinity[:, None, :] & ~static.attributes[None, :, :]).any(axis=2)
    anchors = np.flatnonzero(anchor_target != NO_TARGET)
    pinned = np.zeros((anchors.size, static.num_nodes), dtype=bool)
    pinned[np.arange(anchors.size), anchor_target[anchors]] = True
    allowed[anchors] &= pinned
    return allowed
