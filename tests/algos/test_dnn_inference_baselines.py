"""The dnn-inference baselines: their definitions against brute force over the env's own admission, and
the spec's sanity bands (papers/hisper.md, section e)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from edgeplace.algos.baselines import baseline_names, make_baseline
from edgeplace.algos.baselines.dnn_inference import RandomPolicy
from edgeplace.envs.dnn_inference import DnnInferenceEnv, DnnKPI, DnnObsKey, SlotRequests, admit_slot
from edgeplace.evaluation.runner import run_episodes

CONFIG = {"horizon": 3}


def slot_of(env: DnnInferenceEnv, agents: list[int]) -> SlotRequests:
    """The current slot restricted to the given agent positions (keeping their order)."""
    full = env.slot_requests(env.t)
    return SlotRequests(
        full.service[agents],
        full.local[agents],
        full.data_mb[agents],
        full.deadline_s[agents],
        full.background_tflop,
        full.background_memory_mb,
    )


def all_actions(env: DnnInferenceEnv, agent: str) -> np.ndarray:
    """Every action of an agent in (configuration, model, server) lexicographic order. Shapes: (A, 3)."""
    return np.array(list(itertools.product(*(range(n) for n in env.action_spaces[agent].nvec))))


def brute_force_best(env, position: int, earlier: list[int], earlier_actions: np.ndarray) -> np.ndarray:
    """The action of agent ``position`` that maximises the slot reward of (earlier agents' fixed actions
    + this one): by the admission order, that is the agent's own reward on the state the earlier ones
    left, the heuristics' score. Ties: the first in lexicographic order."""
    requests = slot_of(env, [*earlier, position])
    params = env.config.params
    candidates = all_actions(env, env.possible_agents[position])
    rewards = [
        admit_slot(env.network, params, requests, np.vstack([earlier_actions, action])).reward
        for action in candidates
    ]
    return candidates[int(np.argmax(rewards))]


def test_registered_baselines():
    assert baseline_names("dnn-inference") == ["greedy-sequential", "heuristic", "random"]
    with pytest.raises(ValueError, match="unknown keys"):
        make_baseline("dnn-inference", "heuristic", env_config={"topolgy": "x"})
    obs, _ = DnnInferenceEnv({"horizon": 2, "max_nodes": 20}).reset(seed=0)
    with pytest.raises(ValueError, match="max_nodes"):
        make_baseline("dnn-inference", "heuristic").act_batch(["od_0"], [obs["od_0"]])


def test_heuristic_is_each_agents_best_action_alone():
    env = DnnInferenceEnv(CONFIG)
    obs, _ = env.reset(seed=2)
    actions = make_baseline("dnn-inference", "heuristic", env_config=CONFIG).act_batch(
        list(obs), list(obs.values())
    )
    assert actions.shape == (8, 3) and actions.dtype == np.int64
    for position in (0, 3, 4, 7):
        expected = brute_force_best(env, position, [], np.zeros((0, 3), np.int64))
        np.testing.assert_array_equal(actions[position], expected, err_msg=env.possible_agents[position])


def test_greedy_sequential_is_each_agents_best_action_after_the_earlier_ones():
    env = DnnInferenceEnv(CONFIG)
    obs, _ = env.reset(seed=2)
    policy = make_baseline("dnn-inference", "greedy-sequential", env_config=CONFIG)
    actions = policy.act_batch(list(obs), list(obs.values()))
    for position in (1, 4, 7):
        expected = brute_force_best(env, position, list(range(position)), actions[:position])
        np.testing.assert_array_equal(actions[position], expected, err_msg=env.possible_agents[position])
    heuristic = make_baseline("dnn-inference", "heuristic", env_config=CONFIG)
    np.testing.assert_array_equal(actions[0], heuristic.act_batch(["od_0"], [obs["od_0"]])[0])


def test_greedy_sequential_splits_a_batch_into_slots():
    env = DnnInferenceEnv(CONFIG)
    policy = make_baseline("dnn-inference", "greedy-sequential", env_config=CONFIG)
    obs_a, _ = env.reset(seed=0)
    obs_b, _ = DnnInferenceEnv(CONFIG).reset(seed=1)
    alone_a = policy.act_batch(list(obs_a), list(obs_a.values()))
    alone_b = policy.act_batch(list(obs_b), list(obs_b.values()))
    both = policy.act_batch(list(obs_a) + list(obs_b), list(obs_a.values()) + list(obs_b.values()))
    np.testing.assert_array_equal(both, np.vstack([alone_a, alone_b]))
    mixed_ids = ["od_0", "od_1"]
    with pytest.raises(ValueError, match="od_1 continues a slot"):
        policy.act_batch(mixed_ids, [obs_a["od_0"], obs_b["od_1"]])


def test_random_draws_every_allowed_sub_action_and_nothing_else():
    env = DnnInferenceEnv(CONFIG)
    obs, _ = env.reset(seed=0)
    policy = RandomPolicy(seed=3)
    ids = ["od_0", "mot_0"] * 2000
    actions = policy.act_batch(ids, [obs[agent] for agent in ids])
    od, mot = actions[0::2], actions[1::2]
    assert set(od[:, 1]) == {0, 1, 2, 3} and set(mot[:, 1]) == {0, 1, 2}
    assert set(od[:, 0]) == set(range(16)) and set(mot[:, 2]) == set(range(16))
    again = RandomPolicy(seed=3).act_batch(ids, [obs[agent] for agent in ids])
    np.testing.assert_array_equal(actions, again)
    assert [part.size for part in obs["mot_0"][DnnObsKey.ACTION_MASK]] == [16, 3, 16]  # MOT has 3 models


def test_runner_plays_simultaneous_episodes_independently_of_batching():
    config = {"horizon": 5}
    greedy = make_baseline("dnn-inference", "greedy-sequential", env_config=config)
    one = run_episodes(lambda: DnnInferenceEnv(config), greedy, seed=7, episodes=4, num_envs=1)
    many = run_episodes(lambda: DnnInferenceEnv(config), greedy, seed=7, episodes=4, num_envs=3)
    assert one == many
    assert set(DnnKPI) <= set(one[0])


# Spec e: seed 0, 10 episodes, episode reward / failure rate, +-15 %.
SANITY_BANDS = {
    (4, "random"): (-2.8e4, 0.32),
    (4, "heuristic"): (-8.2e3, 0.10),
    (4, "greedy-sequential"): (-122.0, 0.0),
    (5, "random"): (-3.5e4, 0.32),
    (5, "heuristic"): (-1.2e4, 0.12),
    (5, "greedy-sequential"): (-167.0, 0.0),
}


@pytest.mark.parametrize(("per_service", "name"), list(SANITY_BANDS))
def test_sanity_bands(per_service, name):
    config = {"agents_per_service": per_service}
    policy = make_baseline("dnn-inference", name, seed=0, env_config=config)
    kpis = run_episodes(lambda: DnnInferenceEnv(config), policy, seed=0, episodes=10, num_envs=10)
    reward = np.mean([k[DnnKPI.REWARD] for k in kpis])
    failure = np.mean([k[DnnKPI.FAILURE_RATE] for k in kpis])
    band_reward, band_failure = SANITY_BANDS[(per_service, name)]
    assert reward == pytest.approx(band_reward, rel=0.15)
    assert failure == pytest.approx(band_failure, rel=0.15, abs=1e-3)
