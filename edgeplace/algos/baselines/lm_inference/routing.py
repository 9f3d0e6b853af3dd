"""Plan-free schedulers of the lm-inference baselines (spec e): random (RF, RR, RL), round-robin (AL)
and local (LL). Non-local ones only pick nodes that can host the LM (never LM3/LM4 to VM2)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.plan import Plan


class RandomScheduler:
    """Each (origin, LM) pair goes to a uniformly random node that can host the LM.

    Draws one uniform number per (origin, LM) pair every slot, requests or not.
    """

    def __init__(self, cluster: Cluster, seed: int | Sequence[int]) -> None:
        self.feasible = cluster.can_host.T  # (I, N)
        self.count = self.feasible.sum(axis=1)  # (I,)
        self.rank = np.cumsum(self.feasible, axis=1) - 1  # (I, N): rank of each node among the feasible
        self.rng = np.random.default_rng(seed)

    def route(self, view: ClusterView, plan: Plan) -> np.ndarray:
        """Destinations of this slot's requests (:class:`Scheduler` protocol). Shapes: -> (N, I) int64."""
        nth = np.floor(self.rng.random(view.demand.shape) * self.count[None, :]).astype(np.int64)  # (N, I)
        hit = self.feasible[None, :, :] & (self.rank[None, :, :] == nth[:, :, None])  # (N origin, I, N dest)
        origin = np.arange(view.num_nodes)[
            :, None
        ]  # an LM no node can host stays at (and fails at) its origin
        return np.where(self.count[None, :] > 0, hit.argmax(axis=2), origin)


class RoundRobinScheduler:
    """Round-robin per (origin, LM) over the nodes that can host the LM, starting at the origin's index
    (AL: even routing). The pointer advances once per request."""

    def __init__(self, cluster: Cluster) -> None:
        feasible = cluster.can_host.T  # (I, N)
        self.nodes = [np.flatnonzero(row) for row in feasible]
        self.turn = np.tile(np.arange(cluster.num_nodes)[:, None], (1, feasible.shape[0]))  # (N, I)

    def route(self, view: ClusterView, plan: Plan) -> np.ndarray:
        """Destinations of this slot's requests (:class:`Scheduler` protocol). Shapes: -> (N, I) int64."""
        dest = np.zeros(view.demand.shape, dtype=np.int64)
        for lm, nodes in enumerate(self.nodes):  # an LM no node can host stays at (and fails at) its origin
            dest[:, lm] = nodes[self.turn[:, lm] % nodes.size] if nodes.size else np.arange(dest.shape[0])
        self.turn += view.demand > 0
        return dest


class LocalScheduler:
    """Every request stays at its origin (LL); LM3/LM4 requests of a node without a GPU fail there."""

    def route(self, view: ClusterView, plan: Plan) -> np.ndarray:
        """Destinations of this slot's requests (:class:`Scheduler` protocol). Shapes: -> (N, I) int64."""
        return np.repeat(np.arange(view.num_nodes)[:, None], view.demand.shape[1], axis=1)
