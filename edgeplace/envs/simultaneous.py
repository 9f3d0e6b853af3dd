"""Shared plumbing of scenarios whose agents all act in every step (e.g. one agent per request of a slot).

A scenario subclasses :class:`SimultaneousEnv` and implements four hooks (``_begin_episode``,
``_observe``, ``_apply`` and ``_episode_kpis``). The base class owns the RLlib ``MultiAgentEnv``
contract and the conventions of :mod:`edgeplace.envs.base`: every agent is in every observation dict
and must act in every step; an episode is ``horizon`` steps and ends in truncation (never
termination: there are no terminal states, so learners always bootstrap); the KPIs of the finished
episode are put in every agent's ``infos`` under :data:`KPI_INFO_KEY`.

Seeding: episode e of seed s draws only from ``np.random.default_rng([s, e])`` (``self.rng``).
``reset(seed=s)`` starts at episode 0 of s, a reset without a seed plays the next episode of the
same seed, and ``reset(options={EPISODE_INDEX_OPTION: e})`` replays episode e alone.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from edgeplace.envs.base import ALL_AGENTS, EPISODE_INDEX_OPTION, KPI_INFO_KEY, Observation


class SimultaneousEnv(MultiAgentEnv):
    """Multi-agent env in which all agents act at once, for ``horizon`` steps per episode.

    Subclasses set ``possible_agents`` (the order hooks see agents in), ``observation_spaces`` and
    ``action_spaces`` and call ``super().__init__(horizon)``, then implement the hooks.
    """

    def __init__(self, horizon: int) -> None:
        super().__init__()
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon}")
        self.horizon = horizon
        self.agents = list(self.possible_agents)
        self.rng = np.random.default_rng()
        self._seed = int(np.random.SeedSequence().generate_state(1)[0])
        self._next_episode = 0
        self.episode_index = -1
        self.t = 0
        self._running = False

    # --- hooks -------------------------------------------------------------------------------
    @abstractmethod
    def _begin_episode(self) -> None:
        """Start a new episode, drawing only from ``self.rng``."""

    @abstractmethod
    def _observe(self) -> dict[str, Observation]:
        """Every agent's observation at step ``self.t`` (numpy arrays)."""

    @abstractmethod
    def _apply(self, actions: Sequence[Any]) -> tuple[dict[str, float], dict[str, dict]]:
        """Apply the joint action (one entry per agent, in ``possible_agents`` order) at step
        ``self.t``; return the rewards and infos of every agent. Raise before changing any state if
        an action is invalid."""

    @abstractmethod
    def _episode_kpis(self) -> dict[str, float]:
        """The scenario's KPIs of the finished episode."""

    # --- MultiAgentEnv API ------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Observation], dict[str, dict]]:
        options = options or {}
        if seed is not None:
            self._seed, self._next_episode = int(seed), 0
        if EPISODE_INDEX_OPTION in options:
            self._next_episode = int(options[EPISODE_INDEX_OPTION])
        self.episode_index, self._next_episode = self._next_episode, self._next_episode + 1
        self.rng = np.random.default_rng([self._seed, self.episode_index])
        self.t, self._running = 0, True
        self._begin_episode()
        return self._observe(), {}

    def step(self, action_dict: Mapping[str, Any]):
        if not self._running:
            raise RuntimeError("step() called before reset() or after the episode ended")
        missing = [agent for agent in self.possible_agents if agent not in action_dict]
        extra = sorted(set(action_dict) - set(self.possible_agents))
        if missing or extra:
            raise ValueError(
                f"every agent acts in every step: missing actions {missing}, unknown agents {extra}"
            )
        rewards, infos = self._apply([action_dict[agent] for agent in self.possible_agents])
        self.t += 1
        truncated = self.t >= self.horizon
        observations = self._observe()
        if truncated:
            self._running = False
            kpis = self._episode_kpis()
            for agent in self.possible_agents:
                infos.setdefault(agent, {})[KPI_INFO_KEY] = kpis
        return (
            observations,
            rewards,
            {ALL_AGENTS: False},
            dict.fromkeys(self.possible_agents, truncated) | {ALL_AGENTS: truncated},
            infos,
        )
