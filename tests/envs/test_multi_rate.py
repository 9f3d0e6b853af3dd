"""The multi-rate env base: a planner every 3 slots and a worker every slot, in phase order, through
the base's turn structure, seeding and action checks, and through one RLlib PPO iteration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from edgeplace.envs.action_masks import discrete_mask, mask_space
from edgeplace.envs.base import ALL_AGENTS, KPI_INFO_KEY, MaskedActionError
from edgeplace.envs.multi_rate import MultiRateEnv, Phase
from edgeplace.obs_keys import ObsKey

PLANNER, WORKER = "planner", "worker"
FEATURES = "features"


class TwoRateEnv(MultiRateEnv):
    """The planner picks a mode (0 or 1) every 3 slots; the worker then picks one of 3 items per slot,
    of which the mode masks one. Both are rewarded with the worker's item value."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.possible_agents = [PLANNER, WORKER]
        self.action_spaces = {PLANNER: gym.spaces.Discrete(2), WORKER: gym.spaces.Discrete(3)}
        self.observation_spaces = {
            agent: gym.spaces.Dict(
                {
                    FEATURES: gym.spaces.Box(-np.inf, np.inf, (4,), np.float32),
                    ObsKey.ACTION_MASK: mask_space(space),
                }
            )
            for agent, space in self.action_spaces.items()
        }
        super().__init__(
            [Phase((PLANNER,), period=3), Phase((WORKER,))], horizon=(config or {}).get("horizon", 6)
        )
        self.mode, self.values, self.total = 0, np.zeros(3), 0.0
        self.log: list[tuple[int, str]] = []

    def _begin_episode(self) -> None:
        self.mode, self.total, self.log = 0, 0.0, []
        self.values = self.rng.random(3)

    def _observe(self, agents: Sequence[str]) -> dict[str, dict[str, np.ndarray]]:
        features = np.array([*self.values, self.mode], dtype=np.float32)
        masks = {PLANNER: discrete_mask(np.ones(2)), WORKER: discrete_mask(np.arange(3) != 2 * self.mode)}
        # mode 0 forbids item 0, mode 1 item 2
        return {agent: {FEATURES: features, ObsKey.ACTION_MASK: masks[agent]} for agent in agents}

    def _apply(self, actions: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, dict]]:
        self.log.extend((self.slot, agent) for agent in actions)
        if PLANNER in actions:
            self.mode = actions[PLANNER]
            return {PLANNER: 0.0}, {}
        value = float(self.values[actions[WORKER]])
        self.total += value
        return {WORKER: value, PLANNER: value}, {}  # the planner is credited while it waits

    def _end_slot(self) -> None:
        self.values = self.rng.random(3)

    def _episode_kpis(self) -> dict[str, float]:
        return {"total": self.total}


def first_allowed(observation: dict[str, np.ndarray]) -> int:
    return int(np.flatnonzero(observation[ObsKey.ACTION_MASK] > 0)[0])


def test_phases_act_in_order_at_their_rates_and_the_episode_ends_in_truncation():
    env = TwoRateEnv({"horizon": 6})
    observations, _ = env.reset(seed=0)
    turns = []
    while True:
        turns.append(sorted(observations))
        actions = {agent: first_allowed(obs) for agent, obs in observations.items()}
        observations, rewards, terminated, truncated, infos = env.step(actions)
        if truncated[ALL_AGENTS]:
            break
        assert not terminated[ALL_AGENTS]
    assert turns == [[PLANNER], [WORKER], [WORKER], [WORKER], [PLANNER], [WORKER], [WORKER], [WORKER]]
    assert env.log == [(0, PLANNER), (0, WORKER), (1, WORKER), (2, WORKER), (3, PLANNER), (3, WORKER),
                       (4, WORKER), (5, WORKER)]  # fmt: skip
    assert set(observations) == {PLANNER, WORKER} and truncated == {
        PLANNER: True,
        WORKER: True,
        ALL_AGENTS: True,
    }
    assert infos[PLANNER][KPI_INFO_KEY] == infos[WORKER][KPI_INFO_KEY] == {"total": env.total}
    with pytest.raises(RuntimeError, match="before reset"):
        env.step({WORKER: 1})


def test_only_the_acting_phase_may_act_and_a_masked_action_changes_nothing():
    env, twin = TwoRateEnv(), TwoRateEnv()
    env.reset(seed=4)
    twin.reset(seed=4)
    with pytest.raises(ValueError, match=r"missing \['planner'\], unexpected \['worker'\]"):
        env.step({WORKER: 1})
    env.step({PLANNER: 1})
    twin.step({PLANNER: 1})
    with pytest.raises(MaskedActionError, match="worker: action 2 is masked out"):
        env.step({WORKER: 2})  # mode 1 forbids item 2
    after, rewards, *_ = env.step({WORKER: 0})
    twin_after, twin_rewards, *_ = twin.step({WORKER: 0})
    assert rewards == twin_rewards and env.log == twin.log
    np.testing.assert_array_equal(after[WORKER][FEATURES], twin_after[WORKER][FEATURES])


def test_bad_phase_declarations_are_rejected():
    class Broken(TwoRateEnv):
        def __init__(self, phases):
            self.possible_agents = [PLANNER, WORKER]
            MultiRateEnv.__init__(self, phases, horizon=3)

    with pytest.raises(ValueError, match="every agent once"):
        Broken([Phase((PLANNER,), 3)])
    with pytest.raises(ValueError, match="period 1"):
        Broken([Phase((PLANNER,), 3), Phase((WORKER,), 2)])


@pytest.mark.usefixtures("ray_session")
def test_rllib_ppo_trains_on_a_multi_rate_env():
    """RLlib credits the waiting planner's rewards and trains both modules from one iteration."""
    toy_module = pytest.importorskip("edgeplace_toy.module", reason="the toy plug-in holds the masked module")
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.tune.registry import register_env

    register_env("two-rate", TwoRateEnv)
    spec = toy_module.toy_module_spec({"hidden": 8})
    config = (
        PPOConfig()
        .environment("two-rate", disable_env_checking=True)
        .multi_agent(policies={PLANNER, WORKER}, policy_mapping_fn=lambda agent, *args, **kwargs: agent)
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={PLANNER: spec, WORKER: spec}))
        .env_runners(num_env_runners=0)
        .training(train_batch_size_per_learner=64, minibatch_size=32, num_epochs=1)
        .debugging(seed=0)
    )
    algo = config.build_algo()
    try:
        result = algo.train()
    finally:
        algo.stop()
    learners = result["learners"]
    assert {PLANNER, WORKER} <= set(learners)
    assert np.isfinite(learners[PLANNER]["policy_loss"]) and np.isfinite(learners[WORKER]["policy_loss"])
