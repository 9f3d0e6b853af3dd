"""The greedy-BFS decoder of papers/agentvne.md, section e (Algorithm 1).

Input: one priority list per agent, held as a rank matrix (rank[i, j] = position of node j in agent
i's list, ``inf`` where j is not in the list). :func:`priority_ranks` makes it from a score matrix P:
sorted (inference) or sampled Plackett-Luce by Gumbel-top-k (training). Output: the host of every
agent, or None (rejection).

Steps: pin the anchors; place the lead agent (largest normalised demand, then degree, then lower id)
on the first feasible node of its list; BFS from it: each unplaced non-anchor neighbour w of a queued
agent u goes to host(u) if feasible (co-location), else to the first feasible node of L_w in the
nearest hop ring around host(u) (k = 1 .. diameter); the next queue is the newly placed agents by
(degree desc, demand desc, id asc); agents still unplaced when the queue empties seed a new BFS
(largest demand first). On a failure every tentative allocation is rolled back and the lead moves to
the next feasible node of its list, at most ``restarts`` times. Links follow the fixed routes.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from edgeplace.envs.agent_vne.feasibility import UNPLACED, FeasibilityOracle
from edgeplace.envs.agent_vne.request import VirtualRequest
from edgeplace.envs.agent_vne.static import StaticNetwork

#: R, how many times a failed decode restarts with the lead agent on its next feasible node.
DEFAULT_RESTARTS = 3


class ListMode(StrEnum):
    """How priority lists are made from scores."""

    SORT = "sort"  # descending score, ties -> lower node id
    SAMPLE = "sample"  # Plackett-Luce sample by Gumbel-top-k


def priority_ranks(
    scores: np.ndarray,
    mask: np.ndarray,
    mode: ListMode | str = ListMode.SORT,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Rank matrices of priority lists from scores; masked nodes are left out.

    ``sort``: descending score (ties -> lower id). ``sample``: descending log pi + Gumbel(0, 1) with
    pi_i(j) proportional to scores[i, j] * mask[i, j] (nodes with pi = 0 are left out).

    Shapes: scores, mask (V, N) -> (V, N) float64, list positions 0, 1, ... and inf outside the list.
    """
    scores = np.asarray(scores, dtype=np.float64)
    keep = np.asarray(mask) > 0
    mode = ListMode(mode)
    if mode is ListMode.SAMPLE:
        if rng is None:
            raise ValueError("priority_ranks: mode 'sample' needs an rng")
        weights = np.where(keep, np.maximum(scores, 0.0), 0.0)
        keep &= weights > 0
        with np.errstate(divide="ignore"):
            keys = np.log(weights) + rng.gumbel(size=weights.shape)
    else:
        keys = scores
    keys = np.where(keep, keys, -np.inf)
    order = np.argsort(-keys, axis=1, kind="stable")  # stable: ties keep the lower id first
    ranks = np.empty_like(keys)
    np.put_along_axis(
        ranks, order, np.broadcast_to(np.arange(keys.shape[1], dtype=np.float64), keys.shape), axis=1
    )
    return np.where(keep, ranks, np.inf)


def ranks_from_lists(lists: np.ndarray, num_nodes: int) -> np.ndarray:
    """Rank matrix of explicit lists. Shapes: lists (V, K) node ids, -1 padded -> (V, num_nodes)."""
    lists = np.asarray(lists, dtype=np.int64)
    ranks = np.full((lists.shape[0], num_nodes), np.inf)
    rows, cols = np.nonzero(lists >= 0)
    ranks[rows, lists[rows, cols]] = cols
    return ranks


def lead_agent(request: VirtualRequest, ref_capacity: np.ndarray) -> int:
    """The non-anchor agent with the largest normalised demand (ties: higher degree, then lower id)."""
    agents = np.flatnonzero(~request.is_anchor)
    if agents.size == 0:
        raise ValueError(f"request {request.request_id!r} has no non-anchor agent")
    demand = request.normalised_demand(ref_capacity)[agents]
    degree = request.degree()[agents]
    return int(agents[np.lexsort((agents, -degree, -demand))[0]])


def bfs_order(request: VirtualRequest, ref_capacity: np.ndarray) -> list[int]:
    """Non-anchor agents in the decoder's placement order: the lead, then the unvisited non-anchor
    neighbours (ascending id) of each queued agent, each level queued by (degree desc, demand desc, id
    asc); agents the BFS cannot reach seed new searches, largest demand first."""
    neighbours = request.neighbours()
    degree = request.degree()
    demand = request.normalised_demand(ref_capacity)
    seen = request.is_anchor.copy()
    order: list[int] = []
    seed = lead_agent(request, ref_capacity)
    while True:
        seen[seed] = True
        order.append(seed)
        queue = [seed]
        while queue:
            level = []
            for u in queue:
                for w, _ in neighbours[u]:
                    if not seen[w]:
                        seen[w] = True
                        level.append(w)
            order.extend(level)
            queue = sorted(level, key=lambda a: (-degree[a], -demand[a], a))
        left = np.flatnonzero(~seen)
        if left.size == 0:
            return order
        seed = int(left[np.lexsort((left, -demand[left]))[0]])


def pin_anchors(oracle: FeasibilityOracle) -> bool:
    """Place every anchor on its target; False if one does not fit."""
    request = oracle.request
    for anchor in np.flatnonzero(request.is_anchor):
        target = int(request.anchor_target[anchor])
        if not oracle.feasible(anchor, target):
            return False
        oracle.place(anchor, target)
    return True


class GreedyBFSDecoder:
    """Algorithm 1 on one request (see the module docstring).

    Args:
        static: the network.
        restarts: R, restarts of the lead agent after a failure.
    """

    def __init__(self, static: StaticNetwork, restarts: int = DEFAULT_RESTARTS) -> None:
        if restarts < 0:
            raise ValueError(f"restarts must be >= 0, got {restarts}")
        self.static, self.restarts = static, restarts

    def decode(
        self, request: VirtualRequest, ranks: np.ndarray, node_free: np.ndarray, link_free_mbps: np.ndarray
    ) -> np.ndarray | None:
        """Hosts of every agent, or None (rejected). ``node_free`` / ``link_free_mbps`` are not modified.

        Shapes: ranks (V, N) from :func:`priority_ranks`; node_free (N, 3); link_free_mbps (E,);
        returns (V,) int64.
        """
        accepted, hosts = self.decode_with_attempt(request, ranks, node_free, link_free_mbps)
        return hosts if accepted else None

    def decode_with_attempt(
        self, request: VirtualRequest, ranks: np.ndarray, node_free: np.ndarray, link_free_mbps: np.ndarray
    ) -> tuple[bool, np.ndarray]:
        """(accepted, hosts): every host on success; else the tentative hosts of the last attempt
        (UNPLACED where none; AgentVNE's log-probability of a rejection counts them, spec f).
        Shapes as :meth:`decode`."""
        oracle = FeasibilityOracle(self.static, request, node_free, link_free_mbps)
        lead = lead_agent(request, self.static.ref_capacity)
        excluded = np.zeros(self.static.num_nodes, dtype=bool)
        for _ in range(self.restarts + 1):
            oracle.reset()
            if not pin_anchors(oracle):
                break
            host = self._first_feasible(oracle, lead, ranks[lead], excluded)
            if host is None:
                break
            excluded[host] = True
            oracle.place(lead, host)
            if self._bfs(oracle, lead, ranks):
                return True, oracle.hosts.copy()
        return False, oracle.hosts.copy()

    def _bfs(self, oracle: FeasibilityOracle, seed: int, ranks: np.ndarray) -> bool:
        request = oracle.request
        neighbours = request.neighbours()
        degree = request.degree()
        demand = request.normalised_demand(self.static.ref_capacity)
        queue = [seed]
        while True:
            while queue:
                placed = []
                for u in queue:
                    for w, _ in neighbours[u]:
                        if oracle.hosts[w] != UNPLACED or request.is_anchor[w]:
                            continue
                        node = self._near(oracle, w, int(oracle.hosts[u]), ranks[w])
                        if node is None:
                            return False
                        oracle.place(w, node)
                        placed.append(w)
                queue = sorted(placed, key=lambda a: (-degree[a], -demand[a], a))
            left = np.flatnonzero((oracle.hosts == UNPLACED) & ~request.is_anchor)
            if left.size == 0:
                return True
            seed = int(left[np.lexsort((left, -demand[left]))[0]])
            node = self._first_feasible(oracle, seed, ranks[seed])
            if node is None:
                return False
            oracle.place(seed, node)
            queue = [seed]

    def _near(self, oracle: FeasibilityOracle, agent: int, anchor_host: int, rank: np.ndarray) -> int | None:
        """Co-location with ``anchor_host`` if feasible, else the first feasible listed node of the
        nearest hop ring (k = 1 .. diameter) around it."""
        feasible = oracle.candidates(agent) & np.isfinite(rank)
        if feasible[anchor_host]:
            return anchor_host
        nodes = np.flatnonzero(feasible)
        if nodes.size == 0:
            return None
        hops = self.static.hops[anchor_host, nodes]
        return int(nodes[np.lexsort((rank[nodes], hops))[0]])

    @staticmethod
    def _first_feasible(
        oracle: FeasibilityOracle, agent: int, rank: np.ndarray, excluded: np.ndarray | None = None
    ) -> int | None:
        feasible = oracle.candidates(agent) & np.isfinite(rank)
        if excluded is not None:
            feasible &= ~excluded
        if not feasible.any():
            return None
        return int(np.argmin(np.where(feasible, rank, np.inf)))
