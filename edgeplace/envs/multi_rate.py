"""The base of scenarios whose agents act at several rates, in phases (the lm-inference hierarchy: a
planner every 50 slots, then a scheduler and the deployers every slot).

An episode is ``horizon`` slots. A slot runs the :class:`Phase` s due in it (slot t runs the phases
whose ``period`` divides t) in declaration order, one env step per phase; the agents of a phase act
together and are the only ones in that step's observation dict. A step's rewards may name any agent:
RLlib credits an agent that is not acting with them at its next observation. After a slot's last
phase the scenario advances time (``_end_slot``), and what the slot earned joins that step's rewards.
The episode ends in truncation after the last slot, with a final observation and the episode's KPIs
for every agent. Seeding and action checks: see :mod:`edgeplace.envs.base`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from edgeplace.envs.base import ALL_AGENTS, Observation, ScenarioEnv


@dataclass(frozen=True)
class Phase:
    """Agents that act together in every ``period``-th slot (slots 0, period, 2 period, ...)."""

    agents: tuple[str, ...]
    period: int = 1

    def __post_init__(self) -> None:
        if not self.agents or self.period < 1:
            raise ValueError(f"a phase needs agents and a period >= 1, got {self}")


class MultiRateEnv(ScenarioEnv):
    """Multi-rate, phase-ordered multi-agent env.

    Subclasses set ``possible_agents``, ``observation_spaces`` and ``action_spaces``, call
    ``super().__init__(phases, horizon)`` and implement the hooks.

    Args:
        phases: the phases of a slot, in the order they act; every agent is in exactly one.
        horizon: slots per episode.
    """

    def __init__(self, phases: Sequence[Phase], horizon: int) -> None:
        super().__init__()
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {horizon}")
        listed = [agent for phase in phases for agent in phase.agents]
        if sorted(listed) != sorted(self.possible_agents):
            raise ValueError(f"phases must list every agent once: {listed} vs {list(self.possible_agents)}")
        if all(phase.period > 1 for phase in phases):
            raise ValueError("some phase must act in every slot (period 1)")
        self.phases, self.horizon = tuple(phases), horizon
        self.slot = 0
        self.phase_index = 0
        self._last_obs: dict[str, Observation] | None = None

    # --- hooks -------------------------------------------------------------------------------
    @abstractmethod
    def _begin_episode(self) -> None:
        """Start episode ``self.episode_index`` at slot 0, drawing only from ``self.rng``."""

    @abstractmethod
    def _observe(self, agents: Sequence[str]) -> dict[str, Observation]:
        """The observations of ``agents`` before phase ``self.phase_index`` of slot ``self.slot``."""

    @abstractmethod
    def _apply(self, actions: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, dict]]:
        """Apply the checked actions of phase ``self.phase_index`` (by agent); return rewards (of any
        agents) and infos."""

    @abstractmethod
    def _end_slot(self) -> Mapping[str, float] | None:
        """Advance the scenario past slot ``self.slot`` (after its last phase); return the rewards (of any
        agents) earned over the slot, added to the rewards of the step that ended it, or None."""

    # --- turn structure ----------------------------------------------------------------------
    def due_phases(self, slot: int) -> list[int]:
        """Indices of the phases that act in ``slot``, in order."""
        return [i for i, phase in enumerate(self.phases) if slot % phase.period == 0]

    def _next_phase(self) -> tuple[bool, Mapping[str, float]]:
        """Move to the next due phase (ending slots as they finish): False after the last slot, and the
        rewards of the slot that ended (empty when none did)."""
        due = self.due_phases(self.slot)
        later = [i for i in due if i > self.phase_index]
        if later:
            self.phase_index = later[0]
            return True, {}
        earned = self._end_slot() or {}
        self.slot += 1
        if self.slot >= self.horizon:
            return False, earned
        self.phase_index = self.due_phases(self.slot)[0]
        return True, earned

    # --- MultiAgentEnv API ------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Observation], dict[str, dict]]:
        self._seed_episode(seed, options)
        self.slot, self.phase_index = 0, self.due_phases(0)[0]
        self._begin_episode()
        self._last_obs = self._observe(self.phases[self.phase_index].agents)
        return self._last_obs, {}

    def step(self, action_dict: Mapping[str, Any]):
        if self._last_obs is None:
            raise RuntimeError("step() called before reset() or after the episode ended")
        rewards, infos = self._apply(self._checked(action_dict, self._last_obs))
        going_on, earned = self._next_phase()
        for agent, reward in earned.items():
            rewards[agent] = rewards.get(agent, 0.0) + reward
        if not going_on:
            self._last_obs = None
            observations = self._observe(self.possible_agents)
            truncated = dict.fromkeys(self.possible_agents, True) | {ALL_AGENTS: True}
            return observations, rewards, {ALL_AGENTS: False}, truncated, self._with_kpis(infos)
        self._last_obs = self._observe(self.phases[self.phase_index].agents)
        return self._last_obs, rewards, {ALL_AGENTS: False}, {ALL_AGENTS: False}, infos
