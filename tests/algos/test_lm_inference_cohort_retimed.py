"""``reward_mode="cohort_retimed"``: on a hand-built episode the learner connector puts each slot's
cohort label on that slot's decision of the agents that carry the labels and leaves the planner's
rewards; it refuses unfinished episodes; the mode is set and checked from the algorithm config; and
the env's final infos carry the per-slot Eq. 20 labels, which one PPO iteration learns from."""

from __future__ import annotations

import numpy as np
import pytest
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.env.multi_agent_episode import MultiAgentEpisode

from edgeplace.algos.baselines.lm_inference.policies import BASELINES
from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.algos.lm_inference.cohort_retimed import (
    CohortRetimedRewards,
    RewardMode,
    check_reward_mode,
    with_reward_mode,
)
from edgeplace.algos.lm_inference.learned import build_learned_config
from edgeplace.envs.lm_inference import SCENARIO_ID
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER
from edgeplace.envs.lm_inference.env import LmInfo
from edgeplace.envs.lm_inference.rewards import cohort_rewards
from edgeplace.policy import act
from tests.algos.lm_inference_tiny import ENV_CONFIG, tiny_learned

WINDOWED = [0.1, 0.2, 0.3]
"""The scheduler's windowed rewards of slots 0..2 as the env emitted them."""
COHORTS = [0.7, 0.6, 0.5]
"""Eq. 20 of the cohorts of slots 0..2, known at the end of the episode."""
PLANNER_REWARD = 0.9


def hand_built_episode(ended: bool = True) -> MultiAgentEpisode:
    """Three slots: PLAN at slot 0, then ROUTE each slot; the scheduler's reward of slot t arrives with
    its next observation, the planner's at the end; the final infos carry the cohort labels."""
    obs = np.zeros(1, dtype=np.float32)
    episode = MultiAgentEpisode()
    episode.add_env_reset(observations={PLANNER: obs})
    episode.add_env_step(observations={SCHEDULER: obs}, actions={PLANNER: 0}, rewards={})
    for reward in WINDOWED[:-1]:
        episode.add_env_step(
            observations={SCHEDULER: obs}, actions={SCHEDULER: 0}, rewards={SCHEDULER: reward}
        )
    if not ended:
        return episode
    episode.add_env_step(
        observations={PLANNER: obs, SCHEDULER: obs},
        actions={SCHEDULER: 0},
        rewards={SCHEDULER: WINDOWED[-1], PLANNER: PLANNER_REWARD},
        infos={SCHEDULER: {LmInfo.COHORT_REWARDS: np.array(COHORTS)}, PLANNER: {}},
        truncateds={PLANNER: True, SCHEDULER: True, "__all__": True},
    )
    return episode


@pytest.mark.parametrize("numpy", [False, True])
def test_each_slot_decision_gets_its_own_cohort_label_and_the_planner_keeps_its_reward(numpy):
    episode = hand_built_episode()
    if numpy:
        episode = episode.to_numpy()
    np.testing.assert_allclose(episode.agent_episodes[SCHEDULER].get_rewards(), WINDOWED)
    batch = {"untouched": 1}
    assert CohortRetimedRewards()(rl_module=None, episodes=[episode], batch=batch) is batch
    np.testing.assert_allclose(episode.agent_episodes[SCHEDULER].get_rewards(), COHORTS)
    np.testing.assert_allclose(episode.agent_episodes[PLANNER].get_rewards(), [PLANNER_REWARD])


def test_an_episode_that_has_not_ended_is_refused():
    with pytest.raises(ValueError, match="complete_episodes"):
        CohortRetimedRewards()(rl_module=None, episodes=[hand_built_episode(ended=False)], batch={})


def test_the_mode_is_switched_and_checked_from_the_algorithm_config():
    config = PPOConfig()
    assert check_reward_mode(config) is RewardMode.WINDOWED
    with_reward_mode(config, "cohort_retimed")
    assert (config.batch_mode, check_reward_mode(config)) == ("complete_episodes", RewardMode.COHORT_RETIMED)
    config.env_runners(batch_mode="truncate_episodes")
    with pytest.raises(ValueError, match="'truncate_episodes'"):
        check_reward_mode(config)
    config.learners(learner_config_dict={"reward_mode": "cohort"})
    with pytest.raises(ValueError, match="'cohort'"):
        check_reward_mode(config)


def test_the_env_reports_every_slots_cohort_label_to_the_slot_level_agents():
    env, policy = make_env(ENV_CONFIG), BASELINES["ma-rule"](0, ENV_CONFIG)
    observations, _ = env.reset(seed=1)
    truncated = {"__all__": False}
    while not truncated["__all__"]:
        observations, _, _, truncated, infos = env.step(act(policy, observations))
    expected = cohort_rewards(env.sim.log, 0, env.horizon, env.params)
    assert expected.shape == (15,) and expected.any()
    for agent in (SCHEDULER, *env.deployers):
        np.testing.assert_array_equal(infos[agent][LmInfo.COHORT_REWARDS], expected)
    assert LmInfo.COHORT_REWARDS not in infos[PLANNER]


@pytest.mark.usefixtures("ray_session")
def test_one_ppo_iteration_learns_the_slot_level_agents_from_their_cohort_labels(monkeypatch):
    from ray.tune.registry import register_env

    register_env(SCENARIO_ID, make_env)
    retimed: list[tuple[np.ndarray, np.ndarray]] = []
    connector = CohortRetimedRewards.__call__

    def recording(self, *, episodes, **kwargs):
        batch = connector(self, episodes=episodes, **kwargs)
        for episode in episodes:
            scheduler = episode.agent_episodes[SCHEDULER]
            retimed.append((scheduler.get_rewards(), scheduler.get_infos(-1)[LmInfo.COHORT_REWARDS]))
        return batch

    monkeypatch.setattr(CohortRetimedRewards, "__call__", recording)
    config = tiny_learned()
    algo = with_reward_mode(build_learned_config(config), RewardMode.COHORT_RETIMED).build_algo()
    try:
        algo.train()
    finally:
        algo.stop()
    assert retimed, "the learner pipeline did not run the connector"
    for rewards, cohorts in retimed:  # complete episodes: one reward per slot, each its cohort's label
        np.testing.assert_allclose(rewards, cohorts)
