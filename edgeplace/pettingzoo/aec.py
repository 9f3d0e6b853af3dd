"""A turn-based or multi-rate scenario env as a PettingZoo ``AECEnv``: agents act one at a time.

The RLlib env names the agents that act next as the keys of its observation dict (one agent of a
turn-based env, the agents of a multi-rate env's phase). Here they act one after another in that order;
each action is checked on its own turn, and the env steps once the last of them has acted. Rewards,
``infos`` and done flags come from that env step (a reward reaches an agent's cumulative reward at once,
as PettingZoo's ``last()`` reports it); when the episode ends every agent is done (with the KPIs in its
``infos``) and leaves after one step with action None, as PettingZoo's dead steps go.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pettingzoo import AECEnv

from edgeplace.envs.base import Observation, check_action
from edgeplace.envs.multi_rate import MultiRateEnv
from edgeplace.envs.turn_based import TurnBasedEnv
from edgeplace.obs_keys import ObsKey
from edgeplace.pettingzoo.wrapper import ScenarioWrapper, agent_flags


class ScenarioAECEnv(ScenarioWrapper, AECEnv):
    """``env`` stepped agent by agent (see the module docstring).

    ``observe(agent)`` is the last observation the env gave ``agent`` in this episode (None before its
    first).

    Args:
        env: the turn-based or multi-rate scenario env.
        name: ``metadata["name"]``.
    """

    def __init__(self, env: TurnBasedEnv | MultiRateEnv, name: str | None = None) -> None:
        super().__init__(env, name)
        self.rewards: dict[str, float] = {}
        self._cumulative_rewards: dict[str, float] = {}
        self.terminations: dict[str, bool] = {}
        self.truncations: dict[str, bool] = {}
        self.infos: dict[str, dict] = {}
        self.agent_selection: str | None = None
        self._observations: dict[str, Observation] = {}
        self._acting: list[str] = []  # the agents of the env's next step, in order
        self._pending: dict[str, Any] = {}  # the checked actions of those that have acted

    def reset(self, seed: int | None = None, options: Mapping[str, Any] | None = None) -> None:
        observations, infos = self.env.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {agent: infos.get(agent, {}) for agent in self.agents}
        self._observations = dict(observations)
        self._next_turn(observations)

    def observe(self, agent: str) -> Observation | None:
        return self._observations.get(agent)

    def step(self, action: Any) -> None:
        """Act for ``agent_selection`` (None for a done agent, which then leaves).

        Raises:
            MaskedActionError, ValueError: an action the env would refuse (see
                :func:`~edgeplace.envs.base.check_action`); nothing changes.
        """
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        checked = check_action(
            agent,
            action,
            self.action_spaces[agent],
            self._observations[agent].get(ObsKey.ACTION_MASK),
            self.env.sub_action_names,
        )
        pending = {**self._pending, agent: checked}
        ended = False
        if len(pending) == len(self._acting):  # the last of the acting agents: the env steps
            ended = self._step_env(pending)
        else:
            self._pending = pending
            self.agent_selection = self._acting[len(pending)]
            self._clear_rewards()
        self._cumulative_rewards[agent] = 0.0
        self._accumulate_rewards()
        if ended:
            self._deads_step_first()

    def _step_env(self, actions: dict[str, Any]) -> bool:
        """Step the env with the actions of every acting agent and take in what it returns; whether the
        episode ended."""
        observations, rewards, terminated, truncated, infos = self.env.step(actions)
        self._observations.update(observations)
        self.rewards = {agent: rewards.get(agent, 0.0) for agent in self.agents}
        self.terminations = agent_flags(terminated, self.agents)
        self.truncations = agent_flags(truncated, self.agents)
        self.infos = {agent: infos.get(agent, {}) for agent in self.agents}
        ended = any(self.terminations.values()) or any(self.truncations.values())
        if not ended:
            self._next_turn(observations)
        return ended

    def _next_turn(self, observations: Mapping[str, Observation]) -> None:
        """The agents of ``observations`` act next, in its order."""
        self._acting, self._pending = list(observations), {}
        self.agent_selection = self._acting[0]
