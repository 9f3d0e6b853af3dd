"""Shared helpers of the lm-inference tests: the Bristol testbed cluster, hand-made workloads, a slot
driver that routes locally (unless told otherwise) and configures only the nodes named, and a short
env episode driver."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from edgeplace.envs.base import ALL_AGENTS
from edgeplace.envs.lm_inference.cluster import Cluster, load_cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.env import LmInferenceEnv
from edgeplace.envs.lm_inference.lm_types import NUM_LMS, Mode
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.reconfigure import ReconfigCounts
from edgeplace.envs.lm_inference.simulator import LmInferenceSim
from edgeplace.obs_keys import ObsKey
from edgeplace.policy import Policy, act

VM2, VM3, VM4, VM5, VM6, VM7 = range(6)
LM1, LM2, LM3, LM4 = range(NUM_LMS)
OFF, CPU, GPU = Mode.OFF, Mode.CPU, Mode.GPU
PARAMS = LmInferenceParams()


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    return load_cluster("testbed:bristol")


def workload(slots: int, *requests: tuple[int, int, int, int], nodes: int = 6) -> np.ndarray:
    """A (slots, nodes, I) prompt array holding only ``requests``, each (slot, origin, lm, K)."""
    prompts = np.zeros((slots, nodes, NUM_LMS), dtype=np.int64)
    for slot, origin, lm, k in requests:
        prompts[slot, origin, lm] = k
    return prompts


def config(**pods: tuple[int, int, int]) -> NodeConfig:
    """A node configuration from ``LM<i>=(mode, cores, vgpus)`` keywords; the others are off."""
    return NodeConfig.from_pods({int(name[2:]) - 1: pod for name, pod in pods.items()})


def decide(
    sim: LmInferenceSim,
    configs: Mapping[int, NodeConfig] | None = None,
    destinations: np.ndarray | None = None,
) -> ReconfigCounts:
    """A slot's decisions without running it: route (locally by default), configure the nodes in
    ``configs``."""
    if destinations is None:
        destinations = np.repeat(np.arange(sim.cluster.num_nodes)[:, None], NUM_LMS, axis=1)
    sim.route(destinations)
    return sim.deploy([(configs or {}).get(n) for n in range(sim.cluster.num_nodes)])


def step(
    sim: LmInferenceSim,
    configs: Mapping[int, NodeConfig] | None = None,
    destinations: np.ndarray | None = None,
) -> ReconfigCounts:
    """:func:`decide`, then run the slot."""
    counts = decide(sim, configs, destinations)
    sim.advance()
    return counts


def blank_view(cluster: Cluster, slot: int = 1, **fields: np.ndarray) -> ClusterView:
    """An idle cluster (every pod off, nothing queued, utilisation 0) with ``fields`` replaced."""
    n = cluster.num_nodes
    zeros = np.zeros((n, NUM_LMS), dtype=np.int64)
    values = dict(
        slot=slot,
        time_s=slot * PARAMS.slot_s,
        demand=zeros,
        backlog_prompts=zeros,
        inbound_prompts=zeros,
        queued_requests=zeros,
        oldest_age_s=np.zeros((n, NUM_LMS)),
        pod_state=zeros,
        mode=zeros,
        cores=zeros,
        vgpus=zeros,
        transition_left_s=np.zeros((n, NUM_LMS)),
        pending=np.zeros(n, dtype=bool),
        free_cores=cluster.cores.copy(),
        free_vgpus=cluster.vgpus.copy(),
        free_ram_gb=cluster.ram_gb.copy(),
        eta_cpu=np.ones(n),
        eta_gpu=np.ones(n),
        eta_mem=np.ones(n),
    )
    return ClusterView(**(values | fields))


#: A short env: 3 epochs of 10 slots, KPIs over the cohorts of slots 10-24.
SHORT = {"epochs": 3, "epoch_slots": 10, "warmup_epochs": 1, "drain_slots": 5}


def play(env: LmInferenceEnv, policy: Policy, seed: int) -> tuple[list[dict], list[dict], dict]:
    """One episode of ``policy`` from ``env.reset(seed=seed)``: observations, rewards, final infos."""
    observations, _ = env.reset(seed=seed)
    seen, rewards = [observations], []
    while True:
        observations, reward, _, truncated, infos = env.step(act(policy, observations))
        seen.append(observations)
        rewards.append(reward)
        if truncated[ALL_AGENTS]:
            return seen, rewards, infos


class MaskedRandom:
    """Learned-form actions drawn uniformly among those the observation's mask allows."""

    name = "masked-random"

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def act_batch(self, agent_ids: list[str], observations: list[dict]) -> np.ndarray:
        rows = [self._draw(obs[ObsKey.ACTION_MASK]) for obs in observations]
        out = np.empty(len(rows), dtype=object)
        out[:] = rows
        return out

    def _draw(self, mask: np.ndarray | tuple[np.ndarray, ...]) -> int | np.ndarray:
        if isinstance(mask, tuple):
            return np.array([self.rng.choice(np.flatnonzero(part)) for part in mask])
        return int(self.rng.choice(np.flatnonzero(mask)))
