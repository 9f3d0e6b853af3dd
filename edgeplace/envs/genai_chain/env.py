"""The genai-chain RLlib MultiAgentEnv: five stage agents place a 5-stage GenAI request chain in
turn, R requests per episode (spec: papers/vamappo.md, section d)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from edgeplace.envs.base import Observation, stage_agent_ids
from edgeplace.envs.genai_chain.kpis import ChainKPIs, StageInfo
from edgeplace.envs.genai_chain.observation import ChainObserver, ChainProgress
from edgeplace.envs.genai_chain.params import GenAIChainConfig
from edgeplace.envs.genai_chain.system_model import NodeNoise, RequestProfile
from edgeplace.envs.turn_based import TurnBasedEnv
from edgeplace.topology import padded_size
from edgeplace.workloads.genai_chain import NUM_STAGES, load_workload

AGENT_IDS = tuple(stage_agent_ids(NUM_STAGES))
AGENT_STAGE = {agent_id: stage for stage, agent_id in enumerate(AGENT_IDS)}


class GenAIChainEnv(TurnBasedEnv):
    """Agent ``stage_i`` chooses the model instance (hence the node) of stage i of each request.

    Observation: the Dict of :mod:`edgeplace.obs_keys` (request 34, nodes max_nodes x 13, items 227 x 6).
    Action: Discrete(M), an instance of the stage's required type (others are masked and raise).
    Reward: the stage's utility minus the overload penalty. An episode is R requests (5 R decisions).
    """

    def __init__(self, config: Mapping[str, Any] | GenAIChainConfig | None = None) -> None:
        super().__init__()
        self.config = (
            config if isinstance(config, GenAIChainConfig) else GenAIChainConfig.from_env_config(config)
        )
        self.workload = load_workload(
            self.config.topology, seed=self.config.workload_seed, attribute_seed=self.config.attribute_seed
        )
        self.requests = self.workload.split(self.config.split)
        substrate = self.workload.substrate
        self.observer = ChainObserver(
            self.workload,
            self.config.params,
            padded_size(substrate.num_nodes, self.config.max_nodes, source=self.config.topology),
        )
        self.agents = self.possible_agents = list(AGENT_IDS)
        self.observation_spaces = dict.fromkeys(AGENT_IDS, self.observer.observation_space())
        self.action_spaces = dict.fromkeys(AGENT_IDS, gym.spaces.Discrete(self.workload.num_instances))
        self.noise = NodeNoise(substrate.num_nodes, self.config.params)
        self.load = np.zeros(substrate.num_nodes)
        self.kpis = ChainKPIs(substrate.num_nodes)
        self._rows = np.zeros(0, dtype=np.int64)
        self.progress: ChainProgress | None = None

    @property
    def _set_stride(self) -> int:
        """gcd(R, N): the test split's episode e starts at request ``R e mod N``, a multiple of it."""
        return math.gcd(self.config.requests_per_episode, len(self.requests))

    @property
    def request_sets(self) -> int | None:
        """The test split replays N / gcd(R, N) distinct sets of R consecutive requests (25 of 8 out of
        200); the train split draws every episode's requests afresh (None)."""
        return None if self.config.split == "train" else len(self.requests) // self._set_stride

    def request_set(self, episode: int) -> int | None:
        if self.config.split == "train":
            return None
        return (self.config.requests_per_episode * episode % len(self.requests)) // self._set_stride

    # --- hooks ------------------------------------------------------------------------------
    def _begin_episode(self) -> str:
        num_requests, per_episode = len(self.requests), self.config.requests_per_episode
        if self.config.split == "train":
            self._rows = self.rng.integers(0, num_requests, per_episode)
        else:
            self._rows = (per_episode * self.episode_index + np.arange(per_episode)) % num_requests
        self.load[:] = 0.0
        self.noise.reset(self.rng)
        self.kpis.reset()
        self.progress = self._start_request(0)
        return AGENT_IDS[0]

    def _observe(self, agent_id: str) -> Observation:
        progress = self.progress
        assert progress is not None
        stage = AGENT_STAGE[agent_id]
        if stage != progress.stage:  # only at episode end: terminal observations for every agent
            progress = dataclasses.replace(progress, stage=stage)
        return self.observer.observe(progress, self.load, self.noise.telemetry)

    def _apply(self, agent_id: str, action: int) -> tuple[float, str | None, dict[str, Any]]:
        progress = self.progress
        assert progress is not None
        model, extra_s, reward_offset = self.observer.model, 0.0, 0.0
        if self.config.load_aware_migration:
            action, extra_s = model.migration(progress.request, progress.stage, action, self.load)
        outcome = progress.place_stage(model, action, self.noise.delta, self.load, extra_s)
        if self.config.load_aware_migration:
            load_ratio = self.load[outcome.node] / model.capacity[outcome.node]
            reward_offset = -self.config.params.load_reward_coeff * load_ratio
        self.kpis.record_stage(outcome)
        info = StageInfo.of(outcome)
        reward = outcome.reward + reward_offset
        if progress.stage < NUM_STAGES:
            return reward, AGENT_IDS[progress.stage], info
        self.kpis.record_request(progress.elapsed_s, float(progress.request.deadline_s.sum()))
        self.load *= self.config.params.load_decay
        next_index = progress.request_index + 1
        if next_index == self.config.requests_per_episode:
            return reward, None, info
        self.noise.advance(self.rng)
        self.progress = self._start_request(next_index)
        return reward, AGENT_IDS[0], info

    def _episode_kpis(self) -> dict[str, float]:
        return self.kpis.summary()

    # --- helpers ----------------------------------------------------------------------------
    def _start_request(self, index: int) -> ChainProgress:
        row = int(self._rows[index])
        request = RequestProfile.build(
            self.requests.route[row],
            self.requests.omega[row],
            self.requests.size_scale[row],
            self.requests.access_node[row],
            self.config.params,
        )
        return ChainProgress(
            request=request, request_index=index, requests_per_episode=self.config.requests_per_episode
        )
