"""What both PettingZoo forms of a scenario env share: its agents and spaces, metadata, closing, and
RLlib's done flags read per agent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import gymnasium as gym

from edgeplace.envs.base import ALL_AGENTS, ScenarioEnv


def agent_flags(flags: Mapping[str, bool], agents: Iterable[str]) -> dict[str, bool]:
    """RLlib's ``terminateds`` / ``truncateds`` (per agent and ``"__all__"``) as PettingZoo's: one bool
    per agent, True where the agent's own flag or ``"__all__"`` is."""
    every = bool(flags.get(ALL_AGENTS, False))
    return {agent: every or bool(flags.get(agent, False)) for agent in agents}


class ScenarioWrapper:
    """The PettingZoo attributes of ``env``: ``possible_agents``, and spaces that are the env's own
    objects (the same object on every call, so seeding a space sticks).

    Args:
        env: the scenario env (RLlib ``MultiAgentEnv`` on an edgeplace env base).
        name: ``metadata["name"]`` (default: the env's class name).
    """

    render_mode = None

    def __init__(self, env: ScenarioEnv, name: str | None = None) -> None:
        self.env = env
        self.possible_agents = list(env.possible_agents)
        self.agents: list[str] = []
        self.observation_spaces = env.observation_spaces
        self.action_spaces = env.action_spaces
        self.metadata = {"name": name or type(env).__name__, "render_modes": []}

    def observation_space(self, agent: str) -> gym.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> gym.Space:
        return self.action_spaces[agent]

    def close(self) -> None:
        self.env.close()
