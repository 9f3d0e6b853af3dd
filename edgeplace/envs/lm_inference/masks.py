"""Action spaces and masks of the learned agents (spec d), in Gymnasium's layout
(:mod:`edgeplace.envs.action_masks`).

- planner: ``MultiDiscrete([5] * I N)``, weight w_in of (LM i, node n) at index ``i N + n``; a node
  that can never host the LM allows only 0.
- scheduler: ``MultiDiscrete([N] * N I)``, the destination of pair (origin o, LM i) at index
  ``o I + i``; allowed: nodes that can host the LM and, with the role mask, hold it in role
  (``w_in > 0``). A pair whose LM no node can host allows only its origin (the request fails there).
- deployer: ``Discrete(1 + E)`` with E the largest catalogue; 0 keeps the configuration, k > 0 is
  catalogue entry k - 1. Masked: indices past the node's catalogue, entries that change a locked pod
  (PENDING, INIT, TERMINATING), and entries that allocate (create, restart, grow) while a pod of the
  node is PENDING.
"""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np

from edgeplace.envs.action_masks import discrete_mask, multi_discrete_mask
from edgeplace.envs.lm_inference.catalogue import catalogue
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.lm_types import NUM_LMS, Mode
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.plan import MAX_WEIGHT

KEEP = 0
"""The deployer action that keeps the node's configuration."""


class CatalogueTable:
    """Every node's catalogue as padded arrays.

    Shapes (N nodes, E = the largest catalogue, I LMs):
        mode, cores, vgpus: (N, E, I) int64, zero past a node's catalogue.
        size: (N,) entries per node.
    """

    def __init__(self, cluster: Cluster, params: LmInferenceParams) -> None:
        self.entries = [catalogue(cluster, n, params) for n in range(cluster.num_nodes)]
        self.size = np.array([len(entries) for entries in self.entries])
        width = int(self.size.max())
        table = np.zeros((3, cluster.num_nodes, width, NUM_LMS), dtype=np.int64)
        for n, entries in enumerate(self.entries):
            table[:, n, : len(entries)] = np.array([(e.mode, e.cores, e.vgpus) for e in entries]).transpose(
                1, 0, 2
            )
        self.mode, self.cores, self.vgpus = table
        self.valid = np.arange(width)[None, :] < self.size[:, None]  # (N, E)

    @property
    def num_actions(self) -> int:
        """1 + E: the keep action and the widest catalogue."""
        return 1 + self.mode.shape[1]

    def config(self, node: int, action: int) -> NodeConfig | None:
        """The configuration deployer action ``action`` asks of ``node`` (None: keep)."""
        return None if action == KEEP else self.entries[node][action - 1]


@functools.cache
def catalogue_table(cluster: Cluster, params: LmInferenceParams) -> CatalogueTable:
    """The catalogue table of ``cluster`` (built once per cluster and parameters)."""
    return CatalogueTable(cluster, params)


class ActionMasks:
    """The three agents' action spaces and the masks of a cluster state."""

    def __init__(self, cluster: Cluster, params: LmInferenceParams, role_mask: bool = True) -> None:
        self.feasible = cluster.can_host  # (N, I)
        self.num_nodes, self.role_mask = cluster.num_nodes, role_mask
        self.table = catalogue_table(cluster, params)
        weight_parts = np.zeros((NUM_LMS, self.num_nodes, MAX_WEIGHT + 1), dtype=bool)  # (I, N, 5)
        weight_parts[..., 0] = True
        weight_parts[self.feasible.T] = True
        self.planner = multi_discrete_mask(weight_parts.reshape(-1, MAX_WEIGHT + 1))
        self._scheduler: tuple[bytes, tuple[np.ndarray, ...]] = (b"", ())

    def spaces(self) -> tuple[gym.spaces.MultiDiscrete, gym.spaces.MultiDiscrete, gym.spaces.Discrete]:
        """(planner, scheduler, deployer) action spaces."""
        n = self.num_nodes
        return (
            gym.spaces.MultiDiscrete([MAX_WEIGHT + 1] * NUM_LMS * n),
            gym.spaces.MultiDiscrete([n] * n * NUM_LMS),
            gym.spaces.Discrete(self.table.num_actions),
        )

    def scheduler(self, roles: np.ndarray) -> tuple[np.ndarray, ...]:
        """The scheduler's mask under the plan's roles (read-only; the last one is reused while the roles
        stay). Shapes: roles (N, I) bool -> N I parts (N,)."""
        allowed = self.feasible & roles if self.role_mask else self.feasible  # (N dest, I)
        key = allowed.tobytes()
        if self._scheduler[0] != key:
            rows = np.tile(allowed.T, (self.num_nodes, 1))  # (N I pairs, N dest), pair o I + i -> LM i
            nowhere = ~rows.any(axis=1)
            rows[nowhere, np.repeat(np.arange(self.num_nodes), NUM_LMS)[nowhere]] = True
            self._scheduler = (key, multi_discrete_mask(rows))
        return self._scheduler[1]

    def deployers(self, view: ClusterView) -> np.ndarray:
        """Every deployer's mask in this state. Shapes: -> (N, 1 + E) int8."""
        t = self.table
        have = [a[:, None, :] for a in (view.mode, view.cores, view.vgpus)]  # (N, 1, I) each
        same = (t.mode == have[0]) & (t.cores == have[1]) & (t.vgpus == have[2])  # (N, E, I)
        on, was_on = t.mode != Mode.OFF, have[0] != Mode.OFF
        create = on & ~was_on
        restart = on & was_on & ((t.mode != have[0]) | (t.vgpus != have[2]))
        grow = on & was_on & (t.mode == have[0]) & (t.vgpus == have[2]) & (t.cores > have[1])
        touches_lock = (~same & view.locked[:, None, :]).any(axis=2)  # (N, E)
        allocates = (create | restart | grow).any(axis=2)
        allowed = t.valid & ~touches_lock & ~(view.pending[:, None] & allocates)
        keep = np.ones((self.num_nodes, 1), dtype=bool)
        return discrete_mask(np.concatenate([keep, allowed], axis=1))
