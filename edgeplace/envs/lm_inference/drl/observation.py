"""The DRL tiers' observations, masks and action decoding, built from a :class:`ClusterView`: the one
mapping the tier env and :class:`~edgeplace.algos.lm_inference.drl.policy.DrlPolicy` both use.

Shapes (N nodes, I LMs, A = the largest mode-vector table, 36 on the testbed; float32):

- upper agent (origin o), action ``MultiDiscrete([N] * I)``, a destination per LM:
  ``own`` (2 I + N + 3 N I + 3 N,): o's backlog / 50 and K / 8 per LM, o's one-hot, every node's mode
  one-hot per LM, every node's free cores / C, free vGPUs / G, free RAM / M.
  ``global_state`` (10 N I + 5 N,) (the centralised critic's): every pair's backlog / 50, K / 8,
  pod-state and mode one-hots; every node's free resources, eta_cpu, eta_gpu.
  ``action_mask``: LM i may go to the nodes that can host it (LM3/LM4 never to a CPU-only node).
- lower agent (node n), action ``Discrete(A)``, an index into n's feasible mode vectors
  (:func:`~edgeplace.envs.lm_inference.catalogue.mode_vectors`), completed by
  :func:`~edgeplace.envs.lm_inference.completion.complete`:
  ``own`` (11 I + 4,): n's queued backlog / 50, inbound / 50, remaining transition / 60 s per LM, free
  cores / C, free vGPUs / G, free RAM / M, the pending flag, mode and pod-state one-hots per LM.
  ``action_mask``: indices within n's table whose vector keeps every locked pod's mode
  (:func:`lock_consistent`) and can be completed.
"""

from __future__ import annotations

from enum import StrEnum

import gymnasium as gym
import numpy as np

from edgeplace.envs.action_masks import discrete_mask, mask_space, multi_discrete_mask
from edgeplace.envs.base import Observation
from edgeplace.envs.lm_inference.catalogue import mode_vectors
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.completion import complete, lock_consistent
from edgeplace.envs.lm_inference.drl.tiers import Tier, tier_agents
from edgeplace.envs.lm_inference.epoch_summary import BACKLOG_SCALE
from edgeplace.envs.lm_inference.lm_types import NUM_LMS, Mode
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.observation import TRANSITION_SCALE_S
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.pod import PodState
from edgeplace.obs_keys import ObsKey
from edgeplace.workloads.lm_inference import MAX_PROMPTS

_CACHE_LIMIT = 4096
"""Completed (node, configuration, locks) entries kept before the cache is cleared."""


class DrlObs(StrEnum):
    """Observation keys of the DRL tiers (``action_mask`` is :data:`ObsKey.ACTION_MASK`)."""

    OWN = "own"
    """The agent's own features (the actor's and the Q-network's input)."""
    GLOBAL_STATE = "global_state"
    """The upper tier's centralised-critic input."""


def _box(size: int) -> gym.spaces.Box:
    return gym.spaces.Box(-np.inf, np.inf, (size,), np.float32)


def _one_hot(values: np.ndarray, size: int) -> np.ndarray:
    """Shapes: (...) int -> (..., size) float64."""
    return np.eye(size)[values]


class TierObserver:
    """Observations, masks and decoded actions of both tiers on one cluster."""

    def __init__(self, cluster: Cluster, params: LmInferenceParams) -> None:
        self.cluster, self.params = cluster, params
        n = cluster.num_nodes
        self.vectors = [mode_vectors(cluster, node, params) for node in range(n)]  # N x (A_n, I)
        self.num_vectors = max(len(table) for table in self.vectors)
        self.upper_mask = multi_discrete_mask(list(cluster.can_host.T))  # I parts (N,)
        self.scale = np.stack([cluster.cores, np.maximum(cluster.vgpus, 1), cluster.ram_gb], axis=1).astype(
            np.float64
        )  # (N, 3)
        self.upper_action = gym.spaces.MultiDiscrete([n] * NUM_LMS)
        self.lower_action = gym.spaces.Discrete(self.num_vectors)
        own_upper = 2 * NUM_LMS + n + 3 * n * NUM_LMS + 3 * n
        global_size = (2 + len(PodState) + len(Mode)) * n * NUM_LMS + 5 * n
        self.upper_space = gym.spaces.Dict(
            {
                DrlObs.OWN: _box(own_upper),
                DrlObs.GLOBAL_STATE: _box(global_size),
                ObsKey.ACTION_MASK: mask_space(self.upper_action),
            }
        )
        own_lower = (3 + len(Mode) + len(PodState)) * NUM_LMS + 4
        self.lower_space = gym.spaces.Dict(
            {DrlObs.OWN: _box(own_lower), ObsKey.ACTION_MASK: mask_space(self.lower_action)}
        )
        self._completed: dict[tuple, tuple[np.ndarray, list[NodeConfig | None]]] = {}

    # --- spaces --------------------------------------------------------------------------------
    def spaces(self, tier: Tier) -> tuple[gym.spaces.Dict, gym.Space]:
        """(observation, action) space of every agent of ``tier``."""
        if tier is Tier.UPPER:
            return self.upper_space, self.upper_action
        return self.lower_space, self.lower_action

    # --- observations --------------------------------------------------------------------------
    def _free(self, view: ClusterView) -> np.ndarray:
        """Shapes: -> (N, 3) free cores / C, free vGPUs / G, free RAM / M."""
        return np.stack([view.free_cores, view.free_vgpus, view.free_ram_gb], axis=1) / self.scale

    def upper(self, view: ClusterView) -> dict[str, Observation]:
        """Every origin's observation at the start of a slot (before routing)."""
        n = self.cluster.num_nodes
        backlog, demand = view.backlog_prompts / BACKLOG_SCALE, view.demand / MAX_PROMPTS  # (N, I)
        modes = _one_hot(view.mode, len(Mode))  # (N, I, 3)
        free = self._free(view)
        shared = np.concatenate([modes.ravel(), free.ravel()])
        global_state = np.concatenate(
            [
                backlog.ravel(),
                demand.ravel(),
                _one_hot(view.pod_state, len(PodState)).ravel(),
                modes.ravel(),
                free.ravel(),
                view.eta_cpu,
                view.eta_gpu,
            ]
        ).astype(np.float32)
        origins = np.eye(n)
        return {
            agent: {
                DrlObs.OWN: np.concatenate([backlog[o], demand[o], origins[o], shared]).astype(np.float32),
                DrlObs.GLOBAL_STATE: global_state,
                ObsKey.ACTION_MASK: self.upper_mask,
            }
            for o, agent in enumerate(tier_agents(self.cluster, Tier.UPPER))
        }

    def lower(self, view: ClusterView) -> dict[str, Observation]:
        """Every node's observation once the slot's requests are routed."""
        queued = (view.backlog_prompts - view.inbound_prompts) / BACKLOG_SCALE
        own = np.concatenate(
            [
                queued,
                view.inbound_prompts / BACKLOG_SCALE,
                view.transition_left_s / TRANSITION_SCALE_S,
                self._free(view),
                view.pending[:, None],
                _one_hot(view.mode, len(Mode)).reshape(view.num_nodes, -1),
                _one_hot(view.pod_state, len(PodState)).reshape(view.num_nodes, -1),
            ],
            axis=1,
        ).astype(np.float32)  # (N, 11 I + 4)
        return {
            agent: {DrlObs.OWN: own[node], ObsKey.ACTION_MASK: self._completions(view, node)[0]}
            for node, agent in enumerate(tier_agents(self.cluster, Tier.LOWER))
        }

    # --- actions -------------------------------------------------------------------------------
    def routes(self, actions: np.ndarray) -> np.ndarray:
        """The destinations of the origins' actions. Shapes: (N, I) int, row o = origin o's action."""
        return np.asarray(actions, dtype=np.int64).reshape(self.cluster.num_nodes, NUM_LMS)

    def config(self, view: ClusterView, node: int, action: int) -> NodeConfig | None:
        """The configuration lower action ``action`` of ``node`` completes to (None: the one the node is
        heading to).

        Raises:
            ValueError: an action the node's mask forbids.
        """
        config = self._completions(view, node)[1][action]
        if config is None:
            raise ValueError(f"{self.cluster.names[node]}: mode vector {action} is masked out")
        return None if config == view.node_config(node) else config

    def _completions(self, view: ClusterView, node: int) -> tuple[np.ndarray, list[NodeConfig | None]]:
        """The node's mask (A,) int8 and the completed configuration of each allowed vector."""
        current, locked = view.node_config(node), view.locked[node]
        key = (node, current, locked.tobytes())
        if key not in self._completed:
            if len(self._completed) >= _CACHE_LIMIT:
                self._completed.clear()
            table = self.vectors[node]
            consistent = lock_consistent(table, np.asarray(current.mode), locked)
            configs: list[NodeConfig | None] = [None] * self.num_vectors
            for a in np.flatnonzero(consistent).tolist():
                configs[a] = complete(table[a], current, locked, self.cluster, node, self.params)
            mask = discrete_mask([config is not None for config in configs])
            mask.setflags(write=False)
            self._completed[key] = (mask, configs)
        return self._completed[key]
