"""Some agents of a multi-agent env played by fixed policies inside the env, so that a learner sees only
the others (staged training: lm-inference's stage A trains the deployers while the planner and the
scheduler follow rules).

:class:`ScriptedAgentsEnv` steps the wrapped env with the scripted agents' actions (from any
:class:`~edgeplace.policy.Policy`) whenever they are due, until some learning agent must act. Rewards
that steps earn for learning agents are summed into the next step the wrapper returns; the scripted
agents' observations, rewards and infos never leave the wrapper. At the episode's end every learning
agent gets its final observation and infos as the wrapped env gives them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ray.rllib.env.multi_agent_env import MultiAgentEnv

from edgeplace.envs.base import ALL_AGENTS, Observation
from edgeplace.policy import Policy


class ScriptedAgentsEnv(MultiAgentEnv):
    """``env`` with the agents of ``scripts`` played by their policies.

    Args:
        env: a multi-agent env whose observation dicts name the agents due to act.
        scripts: agent id -> the policy that plays it (one policy may play several agents; the
            agents of one step that share a policy are asked in one ``act_batch``).

    Raises:
        ValueError: a scripted agent the env does not have, or no agent left to learn.
    """

    def __init__(self, env: MultiAgentEnv, scripts: Mapping[str, Policy]) -> None:
        super().__init__()
        unknown = sorted(set(scripts) - set(env.possible_agents))
        if unknown:
            agents = list(env.possible_agents)
            raise ValueError(f"scripted agents {unknown} are not agents of the env {agents}")
        self.env, self.scripts = env, dict(scripts)
        self.possible_agents = [a for a in env.possible_agents if a not in self.scripts]
        if not self.possible_agents:
            raise ValueError("every agent is scripted: nothing is left to learn")
        self.agents = list(self.possible_agents)
        self.observation_spaces = {a: env.observation_spaces[a] for a in self.possible_agents}
        self.action_spaces = {a: env.action_spaces[a] for a in self.possible_agents}

    def reset(
        self, *, seed: int | None = None, options: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Observation], dict[str, dict]]:
        observations, infos = self.env.reset(seed=seed, options=options)
        not_over = {ALL_AGENTS: False}
        observations, _, _, _, infos = self._until_learners_act(observations, {}, not_over, not_over, infos)
        return observations, infos

    def step(self, action_dict: Mapping[str, Any]):
        return self._until_learners_act(*self.env.step(action_dict))

    def _until_learners_act(
        self,
        observations: dict[str, Observation],
        rewards: Mapping[str, float],
        terminated: Mapping[str, bool],
        truncated: Mapping[str, bool],
        infos: dict[str, dict],
    ):
        """Step the env while only scripted agents are due; returns the learners' step tuple (their
        rewards summed over the steps taken)."""
        earned: dict[str, float] = {}
        while True:
            for agent, reward in rewards.items():
                if agent not in self.scripts:
                    earned[agent] = earned.get(agent, 0.0) + reward
            over = terminated.get(ALL_AGENTS, False) or truncated.get(ALL_AGENTS, False)
            if over or any(agent not in self.scripts for agent in observations):
                break
            actions = self._scripted_actions(observations)
            observations, rewards, terminated, truncated, infos = self.env.step(actions)
        keep = set(self.possible_agents) | {ALL_AGENTS}
        return (
            {a: o for a, o in observations.items() if a in keep},
            earned,
            {a: v for a, v in terminated.items() if a in keep},
            {a: v for a, v in truncated.items() if a in keep},
            {a: i for a, i in infos.items() if a in keep},
        )

    def _scripted_actions(self, observations: Mapping[str, Observation]) -> dict[str, Any]:
        """Every due agent's action from its policy (the due agents are all scripted here)."""
        by_policy: dict[int, list[str]] = {}
        for agent in observations:
            by_policy.setdefault(id(self.scripts[agent]), []).append(agent)
        actions: dict[str, Any] = {}
        for agents in by_policy.values():
            policy = self.scripts[agents[0]]
            acted = policy.act_batch(agents, [observations[a] for a in agents])
            actions.update(zip(agents, acted, strict=True))
        return actions
