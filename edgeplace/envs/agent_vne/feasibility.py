"""The shared feasibility oracle (papers/agentvne.md, section e step 4) and mapping validation.

Every method (the greedy-BFS decoder, the baselines and the env's re-validation) decides feasibility
here: capacity in every dimension after this request's tentative allocations, affinity (A_v subset of
A_n), and Eq.13 on the fixed routes to the agent's placed neighbours (existing plus tentative flows).
A request fits when ``need <= free + RTOL * capacity``, the tolerance of :class:`edgeplace.topology.Ledger`,
so a mapping the oracle accepts always commits.
"""

from __future__ import annotations

import numpy as np

from edgeplace.envs.agent_vne.request import VirtualRequest
from edgeplace.envs.agent_vne.static import NO_EDGE, StaticNetwork
from edgeplace.topology.ledger import RTOL

UNPLACED = -1
"""Host of an agent not placed yet."""


def route_edges(static: StaticNetwork, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Link ids of the routes src -> dst. Shapes: src, dst (...) -> (..., D) int64, -1 padded."""
    return static.path_edges[src, dst]


def link_load(static: StaticNetwork, edges: np.ndarray, bw_mbps: np.ndarray) -> np.ndarray:
    """Bandwidth each link carries for flows on ``edges``. Shapes: edges (L, D), bw_mbps (L,) -> (E,)."""
    valid = edges != NO_EDGE
    weights = np.broadcast_to(bw_mbps[:, None], edges.shape)[valid]
    return np.bincount(edges[valid], weights=weights, minlength=static.num_edges)


def check_mapping(
    static: StaticNetwork,
    request: VirtualRequest,
    hosts: np.ndarray,
    node_free: np.ndarray,
    link_free_mbps: np.ndarray,
) -> str | None:
    """Why the complete mapping ``hosts`` is infeasible, or None when it is feasible.

    Shapes: hosts (V,) int; node_free (N, 3); link_free_mbps (E,).
    """
    hosts = np.asarray(hosts)
    if hosts.shape != (request.num_agents,):
        return f"expected {request.num_agents} hosts, got shape {hosts.shape}"
    bad = np.flatnonzero((hosts < 0) | (hosts >= static.num_nodes))
    if bad.size:
        return f"agent {bad[0]} is unassigned or on a padded node ({hosts[bad[0]]})"
    agents = np.arange(request.num_agents)
    off = np.flatnonzero(request.is_anchor & (hosts != request.anchor_target))
    if off.size:
        return f"anchor {off[0]} is not on its target node {request.anchor_target[off[0]]}"
    denied = np.flatnonzero(~request.allowed[agents, hosts])
    if denied.size:
        return f"agent {denied[0]}: node {hosts[denied[0]]} lacks its attributes"
    use = np.zeros_like(node_free)
    np.add.at(use, hosts, request.demand)
    over = np.flatnonzero((use > node_free + RTOL * static.capacity).any(axis=1))
    if over.size:
        return f"node {over[0]}: not enough free resources"
    edges = route_edges(static, hosts[request.links[:, 0]], hosts[request.links[:, 1]])
    load = link_load(static, edges, request.bw_mbps)
    congested = np.flatnonzero(load > link_free_mbps + RTOL * static.bandwidth_mbps)
    if congested.size:
        return f"link {congested[0]}: bandwidth exceeded (Eq.13)"
    return None


class FeasibilityOracle:
    """Tentative placement of one request's agents, one at a time, with feasibility checks.

    Args:
        static: the network.
        request: the request being placed.
        node_free: (N, 3) free resources before this request (copied; never modified).
        link_free_mbps: (E,) free bandwidth before this request (copied; never modified).

    ``hosts`` (V,) holds the tentative host of each agent (-1 unplaced); :meth:`reset` rolls back
    every tentative allocation.
    """

    def __init__(
        self,
        static: StaticNetwork,
        request: VirtualRequest,
        node_free: np.ndarray,
        link_free_mbps: np.ndarray,
    ) -> None:
        self.static, self.request = static, request
        self._node_free0 = np.array(node_free, dtype=np.float64)
        self._link_free0 = np.array(link_free_mbps, dtype=np.float64)
        self._node_slack = RTOL * static.capacity
        self._link_slack = RTOL * static.bandwidth_mbps
        self._neighbours = request.neighbours()
        self.reset()

    def reset(self) -> None:
        """Roll back every tentative allocation."""
        self.node_free = self._node_free0.copy()
        self.link_free = self._link_free0.copy()
        self.hosts = np.full(self.request.num_agents, UNPLACED, dtype=np.int64)

    def host_mask(self, agent: int) -> np.ndarray:
        """Nodes with room for the agent (after tentative allocations) and its tags. Shapes: (N,) bool."""
        fits = (self.request.demand[agent] <= self.node_free + self._node_slack).all(axis=1)
        return fits & self.request.allowed[agent]

    def candidates(self, agent: int) -> np.ndarray:
        """Nodes where the agent is feasible now (capacity, affinity, Eq.13). Shapes: (N,) bool."""
        mask = self.host_mask(agent)
        nodes = np.flatnonzero(mask)
        if nodes.size:
            mask[nodes] = self._links_fit(agent, nodes)
        return mask

    def feasible(self, agent: int, node: int) -> bool:
        """Whether the agent can go on ``node`` now."""
        if not self.host_mask(agent)[node]:
            return False
        return bool(self._links_fit(agent, np.array([node]))[0])

    def place(self, agent: int, node: int) -> None:
        """Tentatively put the agent on ``node`` (checked by the caller) and route its links to placed
        neighbours."""
        self.hosts[agent] = node
        self.node_free[node] -= self.request.demand[agent]
        links = [index for other, index in self._neighbours[agent] if self.hosts[other] != UNPLACED]
        if links:
            pairs = self.request.links[links]
            edges = route_edges(self.static, self.hosts[pairs[:, 0]], self.hosts[pairs[:, 1]])
            self.link_free -= link_load(self.static, edges, self.request.bw_mbps[links])

    def _links_fit(self, agent: int, nodes: np.ndarray) -> np.ndarray:
        """Eq.13 for the agent on each of ``nodes``. Shapes: nodes (C,) -> (C,) bool."""
        placed = [(other, index) for other, index in self._neighbours[agent] if self.hosts[other] != UNPLACED]
        if not placed:
            return np.ones(nodes.size, dtype=bool)
        index = np.array([i for _, i in placed])
        other_host = self.hosts[[o for o, _ in placed]]
        outgoing = self.request.links[index, 0] == agent  # flow agent -> other
        src = np.where(outgoing[None, :], nodes[:, None], other_host[None, :])  # (C, K)
        dst = np.where(outgoing[None, :], other_host[None, :], nodes[:, None])
        edges = route_edges(self.static, src, dst).reshape(nodes.size, -1)  # (C, K*D)
        depth = self.static.path_edges.shape[2]
        bw = np.repeat(self.request.bw_mbps[index], depth)[None, :]  # (1, K*D)
        valid = edges != NO_EDGE
        if len(placed) > 1:  # two routes may share a link: add their demands on it
            same = (edges[:, :, None] == edges[:, None, :]) & valid[:, None, :]
            need = (same * bw[:, None, :]).sum(axis=2)
        else:
            need = np.broadcast_to(bw, edges.shape)
        safe = np.where(valid, edges, 0)
        ok = ~valid | (need <= self.link_free[safe] + self._link_slack[safe])
        return ok.all(axis=1)
