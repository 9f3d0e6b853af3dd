"""The base of scenarios whose agents all act in every step (e.g. one agent per request of a slot).

Every agent is in every observation dict and must act in every step; an episode is ``horizon`` steps
and ends in truncation (never termination: there are no terminal states, so learners always
bootstrap). Seeding, action checks and KPIs: see :mod:`edgeplace.envs.base`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from edgeplace.envs.base import ALL_AGENTS, Observation, ScenarioEnv


class SimultaneousEnv(ScenarioEnv):
    """Multi-agent env in which all agents act at once, for ``horizon`` steps per episode.

    Subclasses set ``possible_agents`` (the order hooks see agents in), ``observation_spaces`` and
    ``action_spaces`` and call ``super().__init__(horizon)``, then implement the hooks.
    """

    def __init__(self, horizon: int) -> None:
        super().__init__()
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon}")
        self.horizon = horizon
        self.t = 0
        self._last_obs: dict[str, Observation] | None = None

    # --- hooks -------------------------------------------------------------------------------
    @abstractmethod
    def _begin_episode(self) -> None:
        """Start episode ``self.episode_index``, drawing only from ``self.rng``."""

    @abstractmethod
    def _observe(self) -> dict[str, Observation]:
        """Every agent's observation at step ``self.t`` (numpy arrays)."""

    @abstractmethod
    def _apply(self, actions: Sequence[Any]) -> tuple[dict[str, float], dict[str, dict]]:
        """Apply the checked joint action (one entry per agent, in ``possible_agents`` order) at step
        ``self.t``; return the rewards and infos of every agent."""

    def joint_view(self) -> Any | None:
        """The env's own joint view for the joint-transition algorithms (global state, actor inputs,
        action structure, masks, reward parts: :class:`edgeplace.algos.hisper.joint_view.JointView`);
        None, the default, gives them the generic view of its flattened observations."""
        return None

    # --- MultiAgentEnv API ------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Observation], dict[str, dict]]:
        self._seed_episode(seed, options)
        self.t = 0
        self._begin_episode()
        self._last_obs = self._observe()
        return self._last_obs, {}

    def step(self, action_dict: Mapping[str, Any]):
        if self._last_obs is None:
            raise RuntimeError("step() called before reset() or after the episode ended")
        actions = self._checked(action_dict, self._last_obs)
        rewards, infos = self._apply([actions[agent] for agent in self.possible_agents])
        self.t += 1
        truncated = self.t >= self.horizon
        observations = self._observe()
        self._last_obs = None if truncated else observations
        if truncated:
            infos = self._with_kpis(infos)
        return (
            observations,
            rewards,
            {ALL_AGENTS: False},
            dict.fromkeys(self.possible_agents, truncated) | {ALL_AGENTS: truncated},
            infos,
        )
