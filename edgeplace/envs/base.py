"""Shared plumbing of every edgeplace scenario: seeding, turn order, masking, padding and KPIs.

A scenario subclasses :class:`PlacementEnv` and implements four hooks (``_begin_episode``,
``_observe``, ``_apply`` and ``_episode_kpis``). The base class owns the RLlib ``MultiAgentEnv``
contract: only the agent whose turn it is appears in the observation dict, the reward goes to the
agent that just acted, an action outside the mask raises :class:`MaskedActionError`, and the KPIs of
the finished episode are put in every agent's ``infos`` under :data:`KPI_INFO_KEY`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from edgeplace.obs_keys import ObsKey

#: ``infos[agent][KPI_INFO_KEY]`` holds the episode's KPIs (a flat ``dict[str, float]``) at its end.
KPI_INFO_KEY = "kpis"
#: ``reset(options={EPISODE_INDEX_OPTION: e})`` replays episode e of a deterministic (test) stream, so
#: one episode can be reproduced alone from (seed, e).
EPISODE_INDEX_OPTION = "episode_index"
#: RLlib's key for "every agent" in termination/truncation dicts.
ALL_AGENTS = "__all__"

Observation = dict[str, np.ndarray]


class MaskedActionError(ValueError):
    """An agent chose an action that its observation's ``action_mask`` forbids."""


def check_action_allowed(agent_id: str, action: int, action_mask: np.ndarray) -> int:
    """Return ``action`` as int if ``action_mask[action]`` is set, else raise :class:`MaskedActionError`.

    Shapes: action_mask (M,) with 1 for allowed items.
    """
    index = int(action)
    if not 0 <= index < action_mask.shape[0]:
        raise MaskedActionError(f"{agent_id}: action {index} outside [0, {action_mask.shape[0]})")
    if action_mask[index] <= 0:
        allowed = np.flatnonzero(action_mask > 0)
        raise MaskedActionError(
            f"{agent_id}: action {index} is masked out; {allowed.size} actions are allowed "
            f"(e.g. {allowed[:5].tolist()})"
        )
    return index


def placement_observation_space(
    *, max_nodes: int, node_dim: int, request_dim: int, num_items: int, item_dim: int
) -> gym.spaces.Dict:
    """The Dict observation space of an item-placement agent (see :mod:`edgeplace.obs_keys`)."""
    unbounded = {"low": -np.inf, "high": np.inf, "dtype": np.float32}
    return gym.spaces.Dict(
        {
            ObsKey.REQUEST: gym.spaces.Box(shape=(request_dim,), **unbounded),
            ObsKey.NODES: gym.spaces.Box(shape=(max_nodes, node_dim), **unbounded),
            ObsKey.NODE_MASK: gym.spaces.Box(0.0, 1.0, (max_nodes,), np.float32),
            ObsKey.ITEMS: gym.spaces.Box(shape=(num_items, item_dim), **unbounded),
            ObsKey.ITEM_NODE: gym.spaces.Box(0, max_nodes - 1, (num_items,), np.int64),
            ObsKey.ACTION_MASK: gym.spaces.Box(0.0, 1.0, (num_items,), np.float32),
        }
    )


class PlacementEnv(MultiAgentEnv):
    """Turn-based multi-agent placement env: agents act one at a time in a scenario-defined order.

    Subclasses set ``possible_agents``, ``observation_spaces`` and ``action_spaces`` in ``__init__``
    (before calling nothing else of this class), then implement the hooks below. Randomness comes
    only from ``self.rng``, which ``reset(seed=...)`` re-seeds; a reset without a seed continues the
    stream, so one seed fixes a whole run of episodes.
    """

    def __init__(self) -> None:
        super().__init__()
        self.rng = np.random.default_rng()
        self._acting: str | None = None
        self._last_obs: Observation | None = None

    # --- hooks -------------------------------------------------------------------------------
    @abstractmethod
    def _begin_episode(self, options: Mapping[str, Any]) -> str:
        """Start a new episode from ``self.rng``; return the first agent to act.

        ``options`` are ``reset``'s; every scenario honours :data:`EPISODE_INDEX_OPTION`.
        """

    @abstractmethod
    def _observe(self, agent_id: str) -> Observation:
        """Observation of ``agent_id`` in the current state (numpy arrays keyed by ObsKey)."""

    @abstractmethod
    def _apply(self, agent_id: str, action: int) -> tuple[float, str | None, dict[str, Any]]:
        """Apply an allowed action; return (reward, next agent or None at episode end, info)."""

    @abstractmethod
    def _episode_kpis(self) -> dict[str, float]:
        """The scenario's KPIs of the finished episode."""

    # --- MultiAgentEnv API ------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Observation], dict[str, dict]]:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self._acting = self._begin_episode(options or {})
        self._last_obs = self._observe(self._acting)
        return {self._acting: self._last_obs}, {}

    def step(self, action_dict: Mapping[str, Any]):
        agent_id = self._acting
        if agent_id is None or self._last_obs is None:
            raise RuntimeError("step() called before reset() or after the episode ended")
        if set(action_dict) != {agent_id}:
            raise ValueError(f"expected an action for {agent_id!r} only, got {sorted(action_dict)}")
        action = check_action_allowed(agent_id, action_dict[agent_id], self._last_obs[ObsKey.ACTION_MASK])
        reward, next_agent, info = self._apply(agent_id, action)
        infos: dict[str, dict] = {agent_id: info}
        if next_agent is None:
            return self._finish(agent_id, reward, infos)
        self._acting = next_agent
        self._last_obs = self._observe(next_agent)
        return (
            {next_agent: self._last_obs},
            {agent_id: reward},
            {ALL_AGENTS: False},
            {ALL_AGENTS: False},
            infos,
        )

    def _finish(self, agent_id: str, reward: float, infos: dict[str, dict]):
        """Close the episode: every agent gets a final observation and the episode's KPIs."""
        kpis = self._episode_kpis()
        observations = {agent: self._observe(agent) for agent in self.possible_agents}
        for agent in self.possible_agents:
            infos.setdefault(agent, {})[KPI_INFO_KEY] = kpis
        self._acting, self._last_obs = None, None
        done = dict.fromkeys(self.possible_agents, True) | {ALL_AGENTS: True}
        return observations, {agent_id: reward}, done, {ALL_AGENTS: False}, infos

    @property
    def acting_agent(self) -> str | None:
        """The agent whose turn it is (None between episodes)."""
        return self._acting


def stage_agent_ids(num_stages: int, prefix: str = "stage") -> Sequence[str]:
    """Agent ids of a chain scenario: ``stage_1 .. stage_K``."""
    return [f"{prefix}_{k}" for k in range(1, num_stages + 1)]
