"""The agents' observations (spec d): cluster state + plan -> numpy features, written once for the env,
evaluation and Serve.

Every observation also holds ``global_state`` (the MAPPO critics' input), ``state`` (the exact decision
context for the rule and llm backends, see :mod:`.state_codec`), ``episode`` (seed and episode index:
backends that keep state per episode tell episodes apart by it) and ``action_mask``.

Shapes (N nodes, I LMs; float32 unless noted):

- planner: ``static`` (4 N + 3 I,) node capacities and LM requirements; ``telemetry`` (4 I + 4 + 4 N I,)
  the last epoch (:meth:`EpochSummary.features`, zeros before the first); ``baseline`` (2 I + 3,) the
  random-policy reference's KPIs; ``current_policy`` (I N,) p_in; ``memory`` (5, 3 I + 3 + I N) the
  retrieved cases and ``memory_mask`` (5,).
- scheduler: ``routing`` (2, I, N) p_in and roles; ``demand`` (N, I) K / 8; ``pods`` (N, I, 14);
  ``nodes`` (N, 6) free cores / C, free vGPUs / G, free RAM / M, eta_cpu, eta_gpu, eta_mem; ``transfer``
  (N, I, N) round-trip transfer estimate of this slot's request per (origin, LM, node), s.
- deployer: ``node`` (11,) profile one-hot, capacities, eta, pending flag; ``lms`` (I, 18).
- ``global_state`` (13 N I + 3 N + I N + 1,): the pod features of every pair, eta, p_in, t mod epoch.

Pod features (``pods``): backlog / 50, work / tau, pod-state one-hot (5), mode one-hot (3), cores / C,
vGPUs / G, remaining transition / 60 s, per-prompt time / tau (1 when off). The deployer's ``lms``:
queued backlog / 50, work / tau, inbound / 50, oldest age / tau, state (5), mode (3), cores / C,
vGPUs / G, transition / 60 s, role bit, p_in, per-prompt time / tau.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import gymnasium as gym
import numpy as np

from edgeplace.envs.action_masks import mask_space
from edgeplace.envs.lm_inference.agents import HardwareProfile, hardware_profiles
from edgeplace.envs.lm_inference.case_memory import RETRIEVED, Case
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.epoch_summary import BACKLOG_SCALE, KPI_FEATURES, EpochSummary
from edgeplace.envs.lm_inference.lm_types import LM_TABLE, NUM_LMS, Mode
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.pod import PodState
from edgeplace.envs.lm_inference.rewards import reference_prompt_s
from edgeplace.envs.lm_inference.state_codec import state_size
from edgeplace.envs.lm_inference.time_model import prompt_time_s
from edgeplace.obs_keys import ObsKey
from edgeplace.workloads.lm_inference import MAX_PROMPTS

TRANSITION_SCALE_S = 60.0
"""Seconds of remaining transition that a feature counts as 1."""
POD_FEATURES = 14
LM_FEATURES = 18
NODE_FEATURES = 11
NODE_STATE_FEATURES = 6
GLOBAL_POD_FEATURES = POD_FEATURES - 1  # without the per-prompt time
EPISODE_ID_BOUND = 2**62
"""Upper bound of the ``episode`` entries (env seed, episode index) in the observation space."""


class LmObs(StrEnum):
    """Observation keys of the lm-inference agents (``action_mask`` is :data:`ObsKey.ACTION_MASK`)."""

    STATIC = "static"
    TELEMETRY = "telemetry"
    BASELINE = "baseline"
    CURRENT_POLICY = "current_policy"
    MEMORY = "memory"
    MEMORY_MASK = "memory_mask"
    ROUTING = "routing"
    DEMAND = "demand"
    PODS = "pods"
    NODES = "nodes"
    TRANSFER = "transfer"
    NODE = "node"
    LMS = "lms"
    GLOBAL_STATE = "global_state"
    STATE = "state"
    EPISODE = "episode"


#: The features each agent kind's network reads (the rest is the critic's, the backends' and the mask).
PLANNER_INPUTS = (
    LmObs.STATIC,
    LmObs.TELEMETRY,
    LmObs.BASELINE,
    LmObs.CURRENT_POLICY,
    LmObs.MEMORY,
    LmObs.MEMORY_MASK,
)
SCHEDULER_INPUTS = (LmObs.ROUTING, LmObs.DEMAND, LmObs.PODS, LmObs.NODES, LmObs.TRANSFER)
DEPLOYER_INPUTS = (LmObs.NODE, LmObs.LMS)


def _box(*shape: int) -> gym.spaces.Box:
    return gym.spaces.Box(-np.inf, np.inf, shape, np.float32)


def _one_hot(values: np.ndarray, size: int) -> np.ndarray:
    """Shapes: (...) int -> (..., size) float64."""
    return np.eye(size)[values]


class ObservationBuilder:
    """Builds the three agent kinds' observations of one cluster.

    Args:
        reference: the random-policy reference's KPI features (:func:`kpi_features`), (2 I + 3,).
    """

    def __init__(self, cluster: Cluster, params: LmInferenceParams, reference: np.ndarray) -> None:
        self.cluster, self.params = cluster, params
        n = cluster.num_nodes
        self.cores = cluster.cores.astype(np.float64)[:, None]  # (N, 1)
        self.vgpus = np.maximum(cluster.vgpus, 1).astype(np.float64)[:, None]
        self.work_s = reference_prompt_s(params)  # (I,)
        capacity = np.stack([cluster.cores, cluster.ram_gb, cluster.vgpus, cluster.vram_gb], axis=1)
        self.capacity = capacity / np.maximum(capacity.max(axis=0), 1e-9)  # (N, 4)
        requirements = np.stack(
            [
                LM_TABLE.min_ram_gb / cluster.ram_gb.max(),
                LM_TABLE.min_vram_gb / max(cluster.vram_gb.max(), 1e-9),
                LM_TABLE.cpu_allowed,
            ],
            axis=1,
        )  # (I, 3)
        self.static = np.concatenate([self.capacity.ravel(), requirements.ravel()]).astype(np.float32)
        self.reference = np.asarray(reference, dtype=np.float32)
        profiles = list(HardwareProfile)
        self.profile = _one_hot(np.array([profiles.index(p) for p in hardware_profiles(cluster)]), 3)
        fixed = np.stack([cluster.round_trip_s(i, 0, params) for i in range(NUM_LMS)])  # (I, N, N)
        per_prompt = np.stack([cluster.round_trip_s(i, 1, params) for i in range(NUM_LMS)]) - fixed
        self.transfer_fixed_s = fixed.transpose(1, 0, 2)  # (N origin, I, N dest)
        self.transfer_per_prompt_s = per_prompt.transpose(1, 0, 2)
        self.state_size = state_size(n)
        self.case_size = 3 * NUM_LMS + 3 + NUM_LMS * n
        self.telemetry_size = 4 * NUM_LMS + 4 + 4 * n * NUM_LMS
        self.global_size = GLOBAL_POD_FEATURES * n * NUM_LMS + 3 * n + NUM_LMS * n + 1

    # --- spaces --------------------------------------------------------------------------------
    def spaces(
        self, actions: Sequence[gym.Space]
    ) -> tuple[gym.spaces.Dict, gym.spaces.Dict, gym.spaces.Dict]:
        """(planner, scheduler, deployer) observation spaces, for their (planner, scheduler, deployer)
        action spaces."""
        n = self.cluster.num_nodes
        common = {
            LmObs.GLOBAL_STATE: _box(self.global_size),
            LmObs.STATE: gym.spaces.Box(-np.inf, np.inf, (self.state_size,), np.float64),
            LmObs.EPISODE: gym.spaces.Box(0, EPISODE_ID_BOUND, (2,), np.int64),
        }
        planner = {
            LmObs.STATIC: _box(self.static.size),
            LmObs.TELEMETRY: _box(self.telemetry_size),
            LmObs.BASELINE: _box(KPI_FEATURES),
            LmObs.CURRENT_POLICY: _box(NUM_LMS * n),
            LmObs.MEMORY: _box(RETRIEVED, self.case_size),
            LmObs.MEMORY_MASK: gym.spaces.Box(0.0, 1.0, (RETRIEVED,), np.float32),
        }
        scheduler = {
            LmObs.ROUTING: _box(2, NUM_LMS, n),
            LmObs.DEMAND: _box(n, NUM_LMS),
            LmObs.PODS: _box(n, NUM_LMS, POD_FEATURES),
            LmObs.NODES: _box(n, NODE_STATE_FEATURES),
            LmObs.TRANSFER: _box(n, NUM_LMS, n),
        }
        deployer = {LmObs.NODE: _box(NODE_FEATURES), LmObs.LMS: _box(NUM_LMS, LM_FEATURES)}
        return tuple(
            gym.spaces.Dict({**own, **common, ObsKey.ACTION_MASK: mask_space(space)})
            for own, space in zip((planner, scheduler, deployer), actions, strict=True)
        )

    # --- features ------------------------------------------------------------------------------
    def pod_features(self, view: ClusterView) -> np.ndarray:
        """See the module docstring. Shapes: -> (N, I, 14) float64."""
        prompt_s = prompt_time_s(np.arange(NUM_LMS)[None, :], view.mode, view.cores, view.vgpus, self.params)
        tau = self.params.deadline_s
        return np.concatenate(
            [
                (view.backlog_prompts / BACKLOG_SCALE)[..., None],
                (view.backlog_prompts * self.work_s / tau)[..., None],
                _one_hot(view.pod_state, len(PodState)),
                _one_hot(view.mode, len(Mode)),
                (view.cores / self.cores)[..., None],
                (view.vgpus / self.vgpus)[..., None],
                (view.transition_left_s / TRANSITION_SCALE_S)[..., None],
                (np.minimum(prompt_s, tau) / tau)[..., None],
            ],
            axis=-1,
        )

    def global_state(self, view: ClusterView, pods: np.ndarray, plan: Plan, epoch_slot: int) -> np.ndarray:
        """The critics' input. Shapes: pods (N, I, 14) -> (13 N I + 3 N + I N + 1,) float32."""
        eta = np.stack([view.eta_cpu, view.eta_gpu, view.eta_mem], axis=1)
        return np.concatenate(
            [
                pods[..., :GLOBAL_POD_FEATURES].ravel(),
                eta.ravel(),
                plan.routing.ravel(),
                [epoch_slot / self.params.epoch_slots],
            ]
        ).astype(np.float32)

    def planner(
        self, plan: Plan, summary: EpochSummary | None, cases: Sequence[Case | None]
    ) -> dict[str, np.ndarray]:
        """The planner's own keys."""
        memory = np.zeros((RETRIEVED, self.case_size), dtype=np.float32)
        for k, case in enumerate(cases):
            if case is not None:
                memory[k] = case.features
        telemetry = np.zeros(self.telemetry_size) if summary is None else summary.features(self.params)
        return {
            LmObs.STATIC: self.static,
            LmObs.TELEMETRY: telemetry.astype(np.float32),
            LmObs.BASELINE: self.reference,
            LmObs.CURRENT_POLICY: plan.routing.ravel().astype(np.float32),
            LmObs.MEMORY: memory,
            LmObs.MEMORY_MASK: np.array([case is not None for case in cases], dtype=np.float32),
        }

    def scheduler(self, view: ClusterView, pods: np.ndarray, plan: Plan) -> dict[str, np.ndarray]:
        """The scheduler's own keys."""
        free = np.stack(
            [
                view.free_cores / self.cores[:, 0],
                view.free_vgpus / self.vgpus[:, 0],
                view.free_ram_gb / self.cluster.ram_gb,
                view.eta_cpu,
                view.eta_gpu,
                view.eta_mem,
            ],
            axis=1,
        )
        transfer = self.transfer_fixed_s + view.demand[..., None] * self.transfer_per_prompt_s
        return {
            LmObs.ROUTING: np.stack([plan.routing, plan.roles.T]).astype(np.float32),
            LmObs.DEMAND: (view.demand / MAX_PROMPTS).astype(np.float32),
            LmObs.PODS: pods.astype(np.float32),
            LmObs.NODES: free.astype(np.float32),
            LmObs.TRANSFER: transfer.astype(np.float32),
        }

    def deployers(self, view: ClusterView, pods: np.ndarray, plan: Plan) -> list[dict[str, np.ndarray]]:
        """Every deployer's own keys, in node order."""
        tau = self.params.deadline_s
        eta = np.stack([view.eta_cpu, view.eta_gpu, view.eta_mem], axis=1)
        node = np.concatenate([self.profile, self.capacity, eta, view.pending[:, None]], axis=1)
        queued = view.backlog_prompts - view.inbound_prompts
        lms = np.concatenate(
            [
                (queued / BACKLOG_SCALE)[..., None],
                pods[..., 1:2],
                (view.inbound_prompts / BACKLOG_SCALE)[..., None],
                (view.oldest_age_s / tau)[..., None],
                pods[..., 2:13],
                plan.roles[..., None],
                plan.routing.T[..., None],
                pods[..., 13:],
            ],
            axis=-1,
        )
        node, lms = node.astype(np.float32), lms.astype(np.float32)
        return [{LmObs.NODE: node[n], LmObs.LMS: lms[n]} for n in range(self.cluster.num_nodes)]
