"""The lm-inference RLlib env (spec d): phase order and rates, spaces of the spec's sizes on the
testbed, seeding, the episode's KPIs, and what masked learned actions can never do."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.envs.base import ALL_AGENTS, EPISODE_INDEX_OPTION, KPI_INFO_KEY
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER
from edgeplace.envs.lm_inference.env import EPISODE_KPIS, AgentKpi, EpisodeKpi
from edgeplace.envs.lm_inference.kpis import cohort_kpis, cohort_mask
from edgeplace.envs.lm_inference.observation import LmObs
from edgeplace.obs_keys import ObsKey
from edgeplace.policy import act
from tests.envs.lm_inference.conftest import SHORT, MaskedRandom, play

DEPLOYERS = [f"deployer_VM{k}" for k in range(2, 8)]


@pytest.fixture(scope="module")
def env():
    return make_env(SHORT)


def test_slots_run_plan_route_deploy_with_the_planner_every_epoch(env):
    observations, _ = env.reset(seed=0)
    policy, turns = MaskedRandom(0), []
    while True:
        turns.append((env.slot, list(observations)))
        observations, _, terminated, truncated, infos = env.step(act(policy, observations))
        assert not terminated[ALL_AGENTS]
        if truncated[ALL_AGENTS]:
            break
    expected = []
    for slot in range(30):
        expected += [(slot, [PLANNER])] if slot % 10 == 0 else []
        expected += [(slot, [SCHEDULER]), (slot, DEPLOYERS)]
    assert turns == expected
    assert set(observations) == set(env.possible_agents) and all(truncated[a] for a in env.possible_agents)
    assert all(set(info[KPI_INFO_KEY]) == set(infos[PLANNER][KPI_INFO_KEY]) for info in infos.values())


def test_spaces_have_the_specs_sizes_on_the_testbed():
    env = make_env(SHORT)
    assert env.possible_agents == [PLANNER, SCHEDULER, *DEPLOYERS]
    assert env.action_spaces[PLANNER].nvec.tolist() == [5] * 24
    assert env.action_spaces[SCHEDULER].nvec.tolist() == [6] * 24
    assert {env.action_spaces[agent].n for agent in DEPLOYERS} == {87}
    planner = env.observation_spaces[PLANNER]
    sizes = {key: planner[key].shape for key in (LmObs.STATIC, LmObs.TELEMETRY, LmObs.BASELINE)}
    assert sizes == {LmObs.STATIC: (36,), LmObs.TELEMETRY: (116,), LmObs.BASELINE: (11,)}
    assert planner[LmObs.CURRENT_POLICY].shape == (24,) and planner[LmObs.MEMORY].shape == (5, 39)
    observations, _ = env.reset(seed=0)
    for _ in (PLANNER, SCHEDULER):
        observations, *_ = env.step(act(MaskedRandom(0), observations))
    # An idle cluster allows every catalogue entry: 6 (VM2), 37 (VM3-6), 86 (VM7), plus keep.
    allowed = [int(observations[agent][ObsKey.ACTION_MASK].sum()) for agent in DEPLOYERS]
    assert allowed == [7, 38, 38, 38, 38, 87]


def test_observations_lie_in_their_spaces_over_an_episode(env):
    seen, _, _ = play(env, MaskedRandom(1), seed=1)
    for observations in seen:
        for agent, observation in observations.items():
            assert env.observation_spaces[agent].contains(observation), agent


def test_the_same_seed_replays_the_episode_and_an_episode_index_replays_it_alone(env):
    seen, rewards, infos = play(env, MaskedRandom(2), seed=7)
    again, rewards_again, infos_again = play(make_env(SHORT), MaskedRandom(2), seed=7)
    assert rewards == rewards_again and infos[PLANNER][KPI_INFO_KEY] == infos_again[PLANNER][KPI_INFO_KEY]
    for first, second in zip(seen, again, strict=True):
        for agent in first:
            np.testing.assert_array_equal(first[agent][LmObs.GLOBAL_STATE], second[agent][LmObs.GLOBAL_STATE])
    env.reset(seed=7)
    second_episode, _ = env.reset()
    replayed, _ = make_env(SHORT).reset(seed=7, options={EPISODE_INDEX_OPTION: 1})
    np.testing.assert_array_equal(second_episode[PLANNER][LmObs.STATE], replayed[PLANNER][LmObs.STATE])
    assert not np.array_equal(second_episode[PLANNER][LmObs.EPISODE], seen[0][PLANNER][LmObs.EPISODE])


def test_the_kpis_cover_the_measured_cohorts_and_each_agents_return(env):
    _, rewards, infos = play(env, MaskedRandom(3), seed=3)
    kpis = infos[PLANNER][KPI_INFO_KEY]
    assert set(kpis) == {*EPISODE_KPIS, *(f"{a}/{AgentKpi.RETURN}" for a in env.possible_agents)}
    measured = cohort_kpis(env.sim.log, cohort_mask(env.sim.log, 10, 25), env.params)
    assert kpis["objective"] == measured.objective and kpis["jain_norm"] == measured.jain_norm
    assert kpis[EpisodeKpi.MEAN_LATENCY_NORM] == measured.mean_latency_s / 900.0
    assert kpis[EpisodeKpi.RESTARTS] == env.sim.counts.restarts
    for agent in env.possible_agents:
        received = sum(step.get(agent, 0.0) for step in rewards)
        assert kpis[f"{agent}/{AgentKpi.RETURN}"] == pytest.approx(received)


def test_masked_learned_actions_never_touch_locked_pods_nor_route_off_role(env):
    """The masks forbid what the simulator would ignore or void, and off-role routes."""
    _, _, infos = play(env, MaskedRandom(4), seed=4)
    kpis = infos[PLANNER][KPI_INFO_KEY]
    assert kpis[EpisodeKpi.RESTARTS] > 0 and kpis[EpisodeKpi.CREATIONS] > 0  # the masks were exercised
    assert kpis[EpisodeKpi.LOCKED] == kpis[EpisodeKpi.VOIDED] == kpis[EpisodeKpi.OFF_ROLE_RATIO] == 0.0
    assert kpis[EpisodeKpi.FALLBACKS] == 0.0


def test_a_bad_env_config_names_the_field():
    with pytest.raises(ValueError, match=r"unknown keys \['max_nodes'\]"):
        make_env({**SHORT, "max_nodes": 8})
    with pytest.raises(ValueError, match="drain leaves no measured slot"):
        make_env({**SHORT, "drain_slots": 20})
    with pytest.raises(ValueError, match="shaping must be true or false, got 'no'"):
        make_env({**SHORT, "shaping": "no"})
    with pytest.raises(ValueError, match="epochs must be an integer, got 2.5"):
        make_env({**SHORT, "epochs": 2.5})
    with pytest.raises(ValueError, match="topology 'nowhere:1'"):
        make_env({**SHORT, "topology": "nowhere:1"})
