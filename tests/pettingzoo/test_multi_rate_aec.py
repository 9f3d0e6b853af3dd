"""The AEC form of a multi-rate env (no multi-rate scenario is registered yet): a lead with a
MultiDiscrete action every 2 slots, then two workers acting together every slot, one at a time in the
AEC form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from pettingzoo.test import api_test, seed_test

from edgeplace.envs.action_masks import discrete_mask, mask_parts, mask_space, multi_discrete_mask
from edgeplace.envs.base import ALL_AGENTS, KPI_INFO_KEY, MaskedActionError
from edgeplace.envs.multi_rate import MultiRateEnv, Phase
from edgeplace.obs_keys import ObsKey
from edgeplace.pettingzoo import ScenarioAECEnv, wrap_env

LEAD, WORKERS = "lead_0", ("worker_0", "worker_1")
VALUES = "values"


class CrewEnv(MultiRateEnv):
    """Every 2 slots the lead picks (a mode, an item to block) from ``MultiDiscrete([2, 3])``, the item
    of the slot's index mod 3 masked; every slot both workers pick one of 3 items, the blocked one
    masked. A worker earns its item's value, and the lead is credited with both."""

    def __init__(self, horizon: int = 4) -> None:
        self.possible_agents = [LEAD, *WORKERS]
        self.action_spaces = {LEAD: gym.spaces.MultiDiscrete([2, 3])} | {
            worker: gym.spaces.Discrete(3) for worker in WORKERS
        }
        self.observation_spaces = {
            agent: gym.spaces.Dict(
                {
                    VALUES: gym.spaces.Box(0.0, 1.0, (3,), np.float32),
                    ObsKey.ACTION_MASK: mask_space(space),
                }
            )
            for agent, space in self.action_spaces.items()
        }
        super().__init__([Phase((LEAD,), period=2), Phase(WORKERS)], horizon)
        self.values, self.blocked, self.total = np.zeros(3, np.float32), 0, 0.0

    def _begin_episode(self) -> None:
        self.values, self.blocked, self.total = self.rng.random(3).astype(np.float32), 0, 0.0

    def _observe(self, agents: Sequence[str]) -> dict[str, dict[str, Any]]:
        items = np.arange(3)
        masks = {LEAD: multi_discrete_mask([np.ones(2), items != self.slot % 3])}
        masks |= dict.fromkeys(WORKERS, discrete_mask(items != self.blocked))
        return {agent: {VALUES: self.values.copy(), ObsKey.ACTION_MASK: masks[agent]} for agent in agents}

    def _apply(self, actions: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, dict]]:
        if LEAD in actions:
            self.blocked = int(actions[LEAD][1])
            return {}, {}
        earned = {worker: float(self.values[actions[worker]]) for worker in WORKERS}
        self.total += sum(earned.values())
        return earned | {LEAD: sum(earned.values())}, {}

    def _end_slot(self) -> None:
        self.values = self.rng.random(3).astype(np.float32)

    def _episode_kpis(self) -> dict[str, float]:
        return {"total": self.total}


def first_allowed(observation: dict[str, Any]) -> int | np.ndarray:
    """The lowest allowed value of each sub-action (an int for a Discrete action's mask)."""
    firsts = [int(np.flatnonzero(part)[0]) for part in mask_parts(observation[ObsKey.ACTION_MASK])]
    return np.array(firsts) if isinstance(observation[ObsKey.ACTION_MASK], tuple) else firsts[0]


def test_pettingzoos_api_and_seed_tests_pass():
    assert isinstance(wrap_env(CrewEnv()), ScenarioAECEnv)
    api_test(wrap_env(CrewEnv()), num_cycles=1000)
    seed_test(lambda: wrap_env(CrewEnv()))


def test_agents_act_one_at_a_time_in_phase_order_and_collect_the_envs_rewards():
    aec, env = wrap_env(CrewEnv(), "crew"), CrewEnv()
    aec.reset(seed=4)
    observations, _ = env.reset(seed=4)
    totals, expected = dict.fromkeys(aec.possible_agents, 0.0), dict.fromkeys(env.possible_agents, 0.0)
    turns, pending = [], {}
    for agent in aec.agent_iter():
        observation, _, terminated, truncated, info = aec.last()
        if terminated or truncated:
            assert info[KPI_INFO_KEY] == {"total": env.total}
            aec.step(None)
            continue
        assert aec.observe(agent) is observation and set(observation) == set(observations[agent])
        turns.append(agent)
        action = first_allowed(observation)
        aec.step(action)
        for name, reward in aec.rewards.items():
            totals[name] += reward
        pending[agent] = action
        if set(pending) == set(observations):  # the RLlib env steps once the phase has acted
            observations, rewards, _, env_truncated, _ = env.step(pending)
            pending = {}
            for name, reward in rewards.items():
                expected[name] += reward
    assert turns == [LEAD, *WORKERS, *WORKERS, LEAD, *WORKERS, *WORKERS]
    assert env_truncated[ALL_AGENTS] and not aec.agents
    assert totals == pytest.approx(expected) and expected[LEAD] > 0


def test_a_masked_action_raises_on_its_own_turn_and_changes_nothing():
    aec, twin = wrap_env(CrewEnv()), wrap_env(CrewEnv())
    for env in (aec, twin):
        env.reset(seed=1)
        env.step(np.array([0, 2]))  # the lead blocks item 2 (slot 0 masks item 0)
        env.step(0)  # worker_0
    assert aec.agent_selection == "worker_1"
    with pytest.raises(MaskedActionError, match="worker_1: action 2 is masked out"):
        aec.step(2)
    assert aec.agent_selection == "worker_1" and aec.observe(LEAD) is not None
    with pytest.raises(MaskedActionError, match="worker_1: action 3 outside"):
        aec.step(3)
    aec.step(1)
    twin.step(1)
    assert aec.agent_selection == twin.agent_selection == "worker_0"
    np.testing.assert_array_equal(aec.observe("worker_0")[VALUES], twin.observe("worker_0")[VALUES])
    assert aec.rewards == twin.rewards and aec.rewards[LEAD] > 0


def test_an_agent_observes_none_before_its_first_turn():
    aec = wrap_env(CrewEnv())
    aec.reset(seed=0)
    assert aec.agent_selection == LEAD and aec.observe("worker_0") is None
    aec.step(np.array([1, 1]))
    assert aec.observe("worker_0") is not None
