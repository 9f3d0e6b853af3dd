"""Baseline embedders of the agent-vne scenario (papers/agentvne.md, section g).

Every policy decides from the observation plus the static network rebuilt from ``env_config``, and
uses the scenario's feasibility oracle, pinned anchors and fixed routes, so a mapping it returns is one
the env accepts. A request without a feasible mapping gets the all-unassigned action (a rejection).
Actions: (B, Nv) int64 hosts, Ns = unassigned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edgeplace.algos.agentvne.grc import grc_rank
from edgeplace.algos.agentvne.noderank import incident_sum, node_resource, noderank
from edgeplace.envs.agent_vne.decoder import GreedyBFSDecoder, bfs_order, pin_anchors, priority_ranks
from edgeplace.envs.agent_vne.feasibility import FeasibilityOracle
from edgeplace.envs.agent_vne.observation import VNEObsKey, request_from_observation
from edgeplace.envs.agent_vne.request import VirtualRequest
from edgeplace.envs.agent_vne.static import StaticNetwork, static_network
from edgeplace.policy import Observation
from edgeplace.topology.ledger import RTOL


class EmbeddingPolicy:
    """Shared plumbing: observation -> (request, residuals) -> hosts or None -> padded action row.

    Subclasses implement :meth:`embed`.
    """

    name = "embedding"

    def __init__(self, static: StaticNetwork) -> None:
        self.static = static

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        if not observations:
            raise ValueError("cannot act on an empty batch of observations")
        num_virtual = observations[0][VNEObsKey.VN_MASK].shape[0]
        actions = np.full((len(observations), num_virtual), self.static.max_nodes, dtype=np.int64)
        for row, obs in enumerate(observations):
            if obs[VNEObsKey.VN_MASK].sum() == 0:
                continue
            request = request_from_observation(obs, self.static)
            hosts = self.embed(request, obs, *self.residuals(obs))
            if hosts is not None:
                actions[row, : hosts.size] = hosts
        return actions

    def residuals(self, obs: Observation) -> tuple[np.ndarray, np.ndarray]:
        """(node_free (N, 3), link_free_mbps (E,)) of the real nodes and links."""
        node_free = np.asarray(obs[VNEObsKey.NODE_RESIDUAL], dtype=np.float64)[: self.static.num_nodes]
        link_free = np.asarray(obs[VNEObsKey.LINK_RESIDUAL_BW], dtype=np.float64)[: self.static.num_edges]
        return node_free, link_free

    def embed(
        self, request: VirtualRequest, obs: Observation, node_free: np.ndarray, link_free: np.ndarray
    ) -> np.ndarray | None:
        """Hosts (V,) of the request's agents, or None to reject."""
        raise NotImplementedError


def _by_demand(request: VirtualRequest, static: StaticNetwork) -> np.ndarray:
    """Non-anchor agents by normalised demand, descending (ties: lower id)."""
    agents = np.flatnonzero(~request.is_anchor)
    demand = request.normalised_demand(static.ref_capacity)[agents]
    return agents[np.lexsort((agents, -demand))]


def _greedy_by_score(oracle: FeasibilityOracle, order: np.ndarray, score_of) -> np.ndarray | None:
    """Pin anchors, then each agent of ``order`` to its feasible node of largest ``score_of(oracle)``."""
    if not pin_anchors(oracle):
        return None
    for agent in order:
        feasible = oracle.candidates(int(agent))
        if not feasible.any():
            return None
        oracle.place(int(agent), int(np.argmax(np.where(feasible, score_of(oracle), -np.inf))))
    return oracle.hosts.copy()


class GreedyPolicy(EmbeddingPolicy):
    """Agents by normalised demand (desc); each to the feasible node with the most free resources
    sum_d res_d / ref_d after this request's tentative allocations (ties: lower id)."""

    name = "greedy"

    def embed(self, request, obs, node_free, link_free):
        oracle = FeasibilityOracle(self.static, request, node_free, link_free)
        ref = self.static.ref_capacity
        return _greedy_by_score(
            oracle, _by_demand(request, self.static), lambda o: (o.node_free / ref).sum(axis=1)
        )


class GreedyGRCPolicy(EmbeddingPolicy):
    """Agents by normalised demand (desc); each to the feasible node of highest GRC rank (computed on the
    residual state before the request; ties: lower id)."""

    name = "greedy-grc"

    def __init__(self, static: StaticNetwork) -> None:
        super().__init__(static)
        self._src, self._dst = static.edge_index

    def embed(self, request, obs, node_free, link_free):
        n = self.static.num_nodes
        bandwidth = np.zeros((n, n))
        bandwidth[self._src, self._dst] = link_free
        bandwidth[self._dst, self._src] = link_free
        rank = grc_rank(node_free[:, 0], bandwidth)
        oracle = FeasibilityOracle(self.static, request, node_free, link_free)
        return _greedy_by_score(oracle, _by_demand(request, self.static), lambda _: rank)


def noderank_scores(
    static: StaticNetwork, node_free: np.ndarray, link_free: np.ndarray, bias: np.ndarray | None = None
):
    """NodeRank (Eq.20-24) of the residual state; ``bias`` (N,) is b per node (None: no bias).

    Shapes: node_free (N, 3); link_free (E,) Mbit/s -> (N,).
    """
    incident = incident_sum(static.edge_index, link_free, static.num_nodes)[0]
    bias_cpu = 0.0 if bias is None else np.asarray(bias) * static.ref_capacity[0]
    resource = node_resource(node_free[:, 0], incident, bias_cpu)
    n = static.num_nodes
    return noderank(resource, static.adjacency[:n, :n])


class NodeRankBFSPolicy(EmbeddingPolicy):
    """RW-BFS-like: every agent's list is the unbiased NodeRank order (ties: lower id) minus the nodes its
    host mask drops; decoded by the greedy-BFS decoder with restarts."""

    name = "noderank-bfs"

    def __init__(self, static: StaticNetwork) -> None:
        super().__init__(static)
        self.decoder = GreedyBFSDecoder(static)

    def embed(self, request, obs, node_free, link_free):
        scores = noderank_scores(self.static, node_free, link_free)
        v, n = request.num_agents, self.static.num_nodes
        mask = np.asarray(obs[VNEObsKey.HOST_MASK])[:v, :n]
        ranks = priority_ranks(np.broadcast_to(scores, (v, n)), mask)
        return self.decoder.decode(request, ranks, node_free, link_free)


class RandomPolicy(EmbeddingPolicy):
    """Agents in the decoder's BFS order from the lead; each to a uniformly random feasible node."""

    name = "random"

    def __init__(self, static: StaticNetwork, seed: int | None = None) -> None:
        super().__init__(static)
        self.rng = np.random.default_rng(seed)

    def embed(self, request, obs, node_free, link_free):
        oracle = FeasibilityOracle(self.static, request, node_free, link_free)
        if not pin_anchors(oracle):
            return None
        for agent in bfs_order(request, self.static.ref_capacity):
            nodes = np.flatnonzero(oracle.candidates(agent))
            if nodes.size == 0:
                return None
            oracle.place(agent, int(nodes[self.rng.integers(nodes.size)]))
        return oracle.hosts.copy()


class GAPolicy(EmbeddingPolicy):
    """VNR-GA: one gene (host) per non-anchor agent, fitness (min) = sum over virtual links and route
    links of (n_e + 1) + 1000 x violations; tournament selection, uniform crossover, mutation to a random
    node or a random neighbour (half each), elitism; the Greedy solution seeds the population.

    Violations counted per individual: overloaded (node, resource) pairs, agents on nodes lacking their
    tags, links over bandwidth (Eq.13). Returns the best violation-free individual seen, or None.
    """

    name = "ga"

    def __init__(
        self,
        static: StaticNetwork,
        seed: int | None = None,
        *,
        population: int = 50,
        generations: int = 100,
        tournament: int = 3,
        crossover: float = 0.8,
        mutation: float = 0.1,
        elites: int = 5,
        violation_weight: float = 1000.0,
    ) -> None:
        super().__init__(static)
        if not 0 < elites < population or tournament < 1:
            raise ValueError(
                f"ga: need 0 < elites < population and tournament >= 1, got {elites}, {population}"
            )
        self.rng = np.random.default_rng(seed)
        self.population, self.generations, self.tournament = population, generations, tournament
        self.crossover, self.mutation, self.elites = crossover, mutation, elites
        self.violation_weight = violation_weight
        self.greedy = GreedyPolicy(static)
        n = static.num_nodes
        adjacency = static.adjacency[:n, :n] > 0
        self._degree = adjacency.sum(axis=1)
        self._neighbours = np.argsort(~adjacency, axis=1, kind="stable")  # neighbours first, by id

    def embed(self, request, obs, node_free, link_free):
        genes = np.flatnonzero(~request.is_anchor)
        if (
            request.is_anchor.any()
            and not request.allowed[request.is_anchor, request.anchor_target[request.is_anchor]].all()
        ):
            return None
        link_workflows = np.asarray(obs[VNEObsKey.LINK_WORKFLOWS], dtype=np.float64)[: self.static.num_edges]
        fitness_of = _Fitness(
            self.static, request, node_free, link_free, link_workflows, self.violation_weight
        )
        pop = self._initial(request, genes, obs, node_free, link_free)
        best, best_fit = None, np.inf
        for generation in range(self.generations + 1):
            fitness, violations = fitness_of(pop, genes)
            feasible = np.flatnonzero(violations == 0)
            if feasible.size:
                top = feasible[np.argmin(fitness[feasible])]
                if fitness[top] < best_fit:
                    best, best_fit = pop[top].copy(), fitness[top]
            if generation == self.generations:
                break
            pop = self._next_generation(pop, fitness)
        if best is None:
            return None
        hosts = request.anchor_target.copy()
        hosts[genes] = best
        return hosts

    def _initial(self, request, genes, obs, node_free, link_free) -> np.ndarray:
        """Population (P, G): the Greedy solution (if any) and uniform draws over each agent's host mask."""
        n = self.static.num_nodes
        mask = np.asarray(obs[VNEObsKey.HOST_MASK])[genes, :n] > 0
        mask[~mask.any(axis=1)] = True
        weights = mask / mask.sum(axis=1, keepdims=True)
        cumulative = np.cumsum(weights, axis=1)  # (G, N)
        draws = self.rng.random((self.population, genes.size, 1))
        pop = np.minimum((draws > cumulative[None]).sum(axis=2), n - 1)
        greedy = self.greedy.embed(request, obs, node_free, link_free)
        if greedy is not None:
            pop[0] = greedy[genes]
        return pop

    def _next_generation(self, pop: np.ndarray, fitness: np.ndarray) -> np.ndarray:
        size, genes = pop.shape
        children = size - self.elites
        elite = pop[np.argsort(fitness, kind="stable")[: self.elites]]
        contenders = self.rng.integers(size, size=(2 * children, self.tournament))
        winners = contenders[np.arange(2 * children), np.argmin(fitness[contenders], axis=1)]
        mothers, fathers = pop[winners[:children]], pop[winners[children:]]
        cross = (self.rng.random((children, 1)) < self.crossover) & (self.rng.random((children, genes)) < 0.5)
        kids = np.where(cross, fathers, mothers)
        mutate = self.rng.random((children, genes)) < self.mutation
        to_neighbour = self.rng.random((children, genes)) < 0.5
        random_node = self.rng.integers(self.static.num_nodes, size=(children, genes))
        degree = self._degree[kids]
        pick = np.minimum(
            (self.rng.random((children, genes)) * degree).astype(np.int64), np.maximum(degree - 1, 0)
        )
        neighbour = np.where(degree > 0, self._neighbours[kids, pick], kids)
        kids = np.where(mutate, np.where(to_neighbour, neighbour, random_node), kids)
        return np.concatenate([elite, kids])


class _Fitness:
    """Vectorised GA fitness over a population (see :class:`GAPolicy`)."""

    def __init__(self, static, request, node_free, link_free, link_workflows, violation_weight) -> None:
        self.static, self.request = static, request
        self.node_limit = node_free + RTOL * static.capacity
        self.link_limit = link_free + RTOL * static.bandwidth_mbps
        self.link_cost = np.append(link_workflows + 1.0, 0.0)  # index -1 (route padding) costs 0
        self.violation_weight = violation_weight

    def __call__(self, pop: np.ndarray, genes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Shapes: pop (P, G) -> fitness (P,), violations (P,)."""
        static, request = self.static, self.request
        size, n, e = pop.shape[0], static.num_nodes, static.num_edges
        hosts = np.broadcast_to(request.anchor_target, (size, request.num_agents)).copy()
        hosts[:, genes] = pop
        rows = np.arange(size)[:, None]
        use = np.zeros((size * n, 3))
        np.add.at(use, (rows * n + hosts).ravel(), np.tile(request.demand, (size, 1)))
        violations = (use.reshape(size, n, 3) > self.node_limit).sum(axis=(1, 2))
        violations += (~request.allowed[np.arange(request.num_agents), hosts]).sum(axis=1)
        route = static.path_edges[hosts[:, request.links[:, 0]], hosts[:, request.links[:, 1]]]  # (P, L, D)
        valid = route >= 0
        flat = (rows[:, :, None] * e + route)[valid]
        bw = np.broadcast_to(request.bw_mbps[None, :, None], route.shape)[valid]
        load = np.bincount(flat, weights=bw, minlength=size * e).reshape(size, e)
        violations += (load > self.link_limit).sum(axis=1)
        cost = self.link_cost[route].sum(axis=(1, 2))
        return cost + self.violation_weight * violations, violations


def _static(env_config: Mapping[str, Any]) -> StaticNetwork:
    return static_network(env_config)


#: The agent-vne heuristic baselines by name: ``(seed, env_config) -> Policy``.
BASELINES = {
    "greedy": lambda seed, env_config: GreedyPolicy(_static(env_config)),
    "greedy-grc": lambda seed, env_config: GreedyGRCPolicy(_static(env_config)),
    "ga": lambda seed, env_config: GAPolicy(_static(env_config), seed),
    "noderank-bfs": lambda seed, env_config: NodeRankBFSPolicy(_static(env_config)),
    "random": lambda seed, env_config: RandomPolicy(_static(env_config), seed),
}
