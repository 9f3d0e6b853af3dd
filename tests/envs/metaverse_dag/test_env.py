"""The metaverse-dag Dec-POMDP env (papers/llm-mappo.md, section c): seeding, masks, the action round
trip, rewards and KPIs, config errors."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines.metaverse_dag import GreedyPolicy, RandomFromMaskPolicy
from edgeplace.envs.base import ALL_AGENTS, KPI_INFO_KEY, MaskedActionError
from edgeplace.envs.metaverse_dag import EPISODE_KPIS, MetaverseDagEnv, MvObsKey
from edgeplace.envs.metaverse_dag.metrics import PENALTY_CLIP
from edgeplace.policy import act

SHORT = {"horizon": 4}


def play(config: dict, seed: int, policy_name: str = "random") -> tuple[list, dict]:
    env = MetaverseDagEnv(config)
    policy = RandomFromMaskPolicy(seed) if policy_name == "random" else GreedyPolicy(config)
    observations, _ = env.reset(seed=seed)
    rewards = []
    while True:
        observations, reward, _, truncated, infos = env.step(act(policy, observations))
        rewards.append(reward)
        if truncated[ALL_AGENTS]:
            return rewards, infos


def test_same_seed_same_rewards_and_another_seed_differs():
    first, infos = play(SHORT, 3)
    again, infos_again = play(SHORT, 3)
    assert first == again and infos["ec_0"][KPI_INFO_KEY] == infos_again["ec_0"][KPI_INFO_KEY]
    assert play(SHORT, 4)[0] != first


def test_kpis_at_episode_end_and_rewards_follow_eq_20():
    rewards, infos = play(SHORT, 0, "greedy")
    kpis = infos["ec_0"][KPI_INFO_KEY]
    assert set(kpis) == {str(k) for k in EPISODE_KPIS} and all(isinstance(v, float) for v in kpis.values())
    assert 0.0 <= kpis["utility"] <= 1.0 and 0.0 <= kpis["violation_rate"] <= 1.0
    assert all(np.isfinite(list(r.values())).all() for r in rewards)


def test_reward_parts_add_up():
    env = MetaverseDagEnv(SHORT)
    observations, _ = env.reset(seed=0)
    _, rewards, *_ = env.step(act(GreedyPolicy(SHORT), observations))
    m = env.last_metrics
    np.testing.assert_allclose(list(rewards.values()), 0.5 * m.r_g + 0.5 * m.r_l + m.r_pen)
    assert (m.penalties <= PENALTY_CLIP).all() and (m.penalties >= 0).all()
    np.testing.assert_allclose(m.utility, 1 + np.clip(m.reward, -1, 0))


#: The paper preset's drawn microservice counts (padding slots) on a small tower layout.
DRAWN_COUNTS = {
    "preset": "paper",
    "topology": "cell-cluster:towers=200,servers=24,radius_km=6.0,seed=0",
    "regions": 4,
}


def test_masks_slot_0_padding_and_the_initial_placement():
    env = MetaverseDagEnv(DRAWN_COUNTS)
    observations, _ = env.reset(seed=0)
    obs = observations["ec_0"]
    layout, opts = env.layout, env.options
    parts = obs[MvObsKey.ACTION_MASK]
    place = np.stack(parts[: layout.num_slots])
    heads = (layout.slot_rep == 0) & env.slot_valid
    assert not place[heads, opts.none_option].any()  # slot 0 must be placed
    padding = ~env.slot_valid
    assert (
        padding.any() and (place[padding].sum(axis=1) == 1).all() and place[padding, opts.none_option].all()
    )
    assert not place[:, (opts.option_node[0] < 0)[:-1].nonzero()[0]].any()  # ES padding never allowed
    np.testing.assert_array_equal(env.choice[0], np.where(heads, opts.ec_option, opts.none_option))
    assert obs[MvObsKey.STATE].shape == env.observation_spaces["ec_0"][MvObsKey.STATE].shape
    assert not obs[MvObsKey.PLAN_Z].any() and not obs[MvObsKey.PLAN_PRIOR].any()


def test_failed_servers_are_masked_and_their_replicas_stop():
    config = {"horizon": 3, "fail_fraction": 0.5, "fail_step": 1}
    env = MetaverseDagEnv(config)
    policy = GreedyPolicy(config)
    observations, _ = env.reset(seed=0)
    observations, *_ = env.step(act(policy, observations))
    observations, *_ = env.step(act(policy, observations))
    down = np.flatnonzero(~env.node_up)
    assert down.size == 20 and (down < env.net.num_es).all()
    place = np.stack(observations["ec_0"][MvObsKey.ACTION_MASK][: env.layout.num_slots])
    options = env.options.option_node[0]
    assert not place[:, np.isin(options, down)].any()
    assert not env.last.started[np.isin(env.last.node, down)].any()


def test_a_masked_action_raises_naming_the_agent():
    env = MetaverseDagEnv(SHORT)
    observations, _ = env.reset(seed=0)
    actions = act(GreedyPolicy(SHORT), observations)
    head = int(np.flatnonzero(env.layout.slot_rep == 0)[0])
    actions["ec_1"] = actions["ec_1"].copy()
    actions["ec_1"][head] = env.options.none_option
    with pytest.raises(MaskedActionError, match="ec_1"):
        env.step(actions)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"preset": "huge"}, "preset"),
        ({"load": -1.0}, "load"),
        ({"complexity": "C99-1"}, "complexity"),
        ({"network_seed": 1.5}, "network_seed"),
        ({"start_hour": 24.0}, "start_hour"),
        ({"regions": 17}, "regions"),
        ({"speed": 2.0}, "speed"),
        ({"topology": "nope:1"}, "nope:1"),
    ],
)
def test_bad_config_raises_naming_the_field(config, field):
    with pytest.raises(ValueError, match=field):
        MetaverseDagEnv(config)


def test_complexity_and_load_presets_shape_the_env():
    env = MetaverseDagEnv({"complexity": "C26-3", "load": 50.0, "horizon": 2})
    assert env.layout.r_max == 3 and env.layout.max_ms == (5, 9, 12)
    env.reset(seed=0)
    assert env.arrivals.rates(0.0).mean() == pytest.approx(50.0)
