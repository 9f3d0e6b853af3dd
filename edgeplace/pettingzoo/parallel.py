"""A simultaneous scenario env as a PettingZoo ``ParallelEnv``: every agent acts in every step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pettingzoo import ParallelEnv

from edgeplace.envs.base import Observation
from edgeplace.pettingzoo.wrapper import ScenarioWrapper, agent_flags


class ScenarioParallelEnv(ScenarioWrapper, ParallelEnv):
    """``env`` stepped all agents at once, as RLlib steps it. Every agent stays for the whole episode and
    leaves when it ends (in truncation); its last ``infos`` hold the episode's KPIs.

    Args:
        env: the simultaneous scenario env (a :class:`~edgeplace.envs.simultaneous.SimultaneousEnv`).
        name: ``metadata["name"]``.
    """

    def reset(
        self, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Observation], dict[str, dict]]:
        observations, infos = self.env.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        return observations, {agent: infos.get(agent, {}) for agent in self.agents}

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """One step of every live agent's action; raises as the env does (e.g.
        :class:`~edgeplace.envs.base.MaskedActionError`), leaving it unchanged."""
        observations, rewards, terminated, truncated, infos = self.env.step(actions)
        agents = self.agents
        terminations, truncations = agent_flags(terminated, agents), agent_flags(truncated, agents)
        self.agents = [agent for agent in agents if not (terminations[agent] or truncations[agent])]
        return (
            observations,
            {agent: rewards.get(agent, 0.0) for agent in agents},
            terminations,
            truncations,
            {agent: infos.get(agent, {}) for agent in agents},
        )
