"""The base of scenarios whose agents act one at a time, in a scenario-defined order (chain stages,
one embedder per arriving workflow).

Only the agent whose turn it is appears in the observation dict, the reward goes to the agent that
just acted, and the episode ends when the scenario names no next agent (in termination, or in
truncation for scenarios whose process goes on: ``ends_in_truncation``); then every agent gets a
final observation and the episode's KPIs. Seeding and action checks: see
:mod:`edgeplace.envs.base`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from edgeplace.envs.base import ALL_AGENTS, Observation, ScenarioEnv


class TurnBasedEnv(ScenarioEnv):
    """Turn-based multi-agent env: implement ``_begin_episode``, ``_observe``, ``_apply`` and
    ``_episode_kpis``; draw randomness only from ``self.rng``."""

    #: Whether an episode's end is a truncation (the scenario's process would go on, so learners
    #: bootstrap) rather than a termination.
    ends_in_truncation: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        self._acting: str | None = None
        self._last_obs: Observation | None = None

    # --- hooks -------------------------------------------------------------------------------
    @abstractmethod
    def _begin_episode(self) -> str:
        """Start episode ``self.episode_index`` from ``self.rng``; return the first agent to act."""

    @abstractmethod
    def _observe(self, agent_id: str) -> Observation:
        """Observation of ``agent_id`` in the current state (numpy arrays)."""

    @abstractmethod
    def _apply(self, agent_id: str, action: Any) -> tuple[float, str | None, dict[str, Any]]:
        """Apply a checked action; return (reward, next agent or None at episode end, info)."""

    # --- MultiAgentEnv API ------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Observation], dict[str, dict]]:
        self._seed_episode(seed, options)
        self._acting = self._begin_episode()
        self._last_obs = self._observe(self._acting)
        return {self._acting: self._last_obs}, {}

    def step(self, action_dict: Mapping[str, Any]):
        agent_id = self._acting
        if agent_id is None or self._last_obs is None:
            raise RuntimeError("step() called before reset() or after the episode ended")
        action = self._checked(action_dict, {agent_id: self._last_obs})[agent_id]
        reward, next_agent, info = self._apply(agent_id, action)
        infos: dict[str, dict] = {agent_id: info}
        if next_agent is None:
            observations = {agent: self._observe(agent) for agent in self.possible_agents}
            self._acting, self._last_obs = None, None
            done = dict.fromkeys(self.possible_agents, True) | {ALL_AGENTS: True}
            not_done = {ALL_AGENTS: False}
            terminated, truncated = (not_done, done) if self.ends_in_truncation else (done, not_done)
            return observations, {agent_id: reward}, terminated, truncated, self._with_kpis(infos)
        self._acting = next_agent
        self._last_obs = self._observe(next_agent)
        not_done = {ALL_AGENTS: False}
        return {next_agent: self._last_obs}, {agent_id: reward}, not_done, dict(not_done), infos

    @property
    def acting_agent(self) -> str | None:
        """The agent whose turn it is (None between episodes)."""
        return self._acting
