"""Every registered scenario as a PettingZoo env (built-in, the toy plug-in, any other installed one):
PettingZoo's own API and seed tests, and a PettingZoo loop that ends with the KPIs in ``infos``."""

from __future__ import annotations

import pytest
from gymnasium.utils.env_checker import data_equivalence
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.test import api_test, parallel_api_test, seed_test

from edgeplace.envs.base import KPI_INFO_KEY, ScenarioEnv
from edgeplace.envs.simultaneous import SimultaneousEnv
from edgeplace.obs_keys import ObsKey
from edgeplace.pettingzoo import ScenarioAECEnv, ScenarioParallelEnv, pettingzoo_env, wrap_env
from edgeplace.scenarios import ScenarioSpec
from tests.contract.conftest import SCENARIOS, Smoke, smoke_of


@pytest.fixture(params=SCENARIOS, ids=[spec.scenario_id for spec in SCENARIOS])
def smoke(request) -> Smoke:
    """Each registered scenario with its smoke env config."""
    return smoke_of(request.param)


def without_wall_clock_kpis(spec: ScenarioSpec, env: ScenarioEnv) -> ScenarioEnv:
    """``env`` reporting its KPIs but the spec's ``wall_clock_kpis``: PettingZoo's seed tests compare
    infos exactly, and wall-clock KPIs (solving times) are the only values two runs of one seed differ in."""
    kpis = env._episode_kpis
    env._episode_kpis = lambda: {k: v for k, v in kpis().items() if k not in spec.wall_clock_kpis}
    return env


def masked_parallel_seed_test(env_fn, cycles: int = 50) -> None:
    """PettingZoo's ``parallel_seed_test`` with each action sampled under its observation's mask:
    the PettingZoo test samples unmasked actions, which an env must refuse where its masks forbid them.
    Two envs reset with one seed, with their action spaces seeded alike, must give equal actions,
    observations, rewards, ends and infos."""
    env1, env2 = env_fn(), env_fn()
    observations = [env1.reset(seed=42)[0], env2.reset(seed=42)[0]]
    for env in (env1, env2):
        for i, agent in enumerate(env.agents):
            env.action_space(agent).seed(42 + i)
    for _ in range(cycles):
        actions = [
            {a: env.action_space(a).sample(mask=obs[a][ObsKey.ACTION_MASK]) for a in env.agents}
            for env, obs in zip((env1, env2), observations, strict=True)
        ]
        assert data_equivalence(*actions), "Incorrect action seeding"
        first, second = env1.step(actions[0]), env2.step(actions[1])
        assert data_equivalence(first, second), "the same seed and actions gave different steps"
        observations = [first[0], second[0]]
        if not env1.agents:
            break


def test_pettingzoos_api_and_seed_tests_pass(smoke):
    spec, env_config = smoke.spec, smoke.env_config
    env = pettingzoo_env(spec, env_config)

    def seeded() -> ScenarioAECEnv | ScenarioParallelEnv:
        return wrap_env(without_wall_clock_kpis(spec, spec.make_env(env_config)), spec.scenario_id)

    if isinstance(env, ParallelEnv):
        parallel_api_test(env, num_cycles=1000)
        masked_parallel_seed_test(seeded)
    else:
        api_test(env, num_cycles=1000)
        seed_test(seeded)


def test_the_form_follows_the_env_base_and_the_spaces_are_the_envs_own(smoke):
    spec = smoke.spec
    env = pettingzoo_env(spec.scenario_id, smoke.env_config)
    simultaneous = isinstance(env.env, SimultaneousEnv)
    assert isinstance(env, ParallelEnv if simultaneous else AECEnv)
    assert env.metadata["name"] == spec.scenario_id and env.possible_agents == env.env.possible_agents
    for agent in env.possible_agents:
        assert env.observation_space(agent) is env.env.observation_spaces[agent]
        assert env.action_space(agent) is env.env.action_spaces[agent]


def masked_sample(env: ScenarioAECEnv | ScenarioParallelEnv, agent: str, observation: dict):
    return env.action_space(agent).sample(mask=observation.get(ObsKey.ACTION_MASK))


def test_a_pettingzoo_loop_plays_an_episode_that_ends_with_the_kpis_in_infos(smoke):
    spec = smoke.spec
    env = pettingzoo_env(spec, smoke.env_config)
    reported = spec.reported_kpis(env.possible_agents)
    if isinstance(env, ParallelEnv):
        observations, _ = env.reset(seed=3)
        while env.agents:
            actions = {agent: masked_sample(env, agent, observations[agent]) for agent in env.agents}
            observations, _, _, truncations, infos = env.step(actions)
        assert all(truncations.values())
        final = infos
    else:
        env.reset(seed=3)
        final = {}
        for agent in env.agent_iter():
            observation, _, terminated, truncated, info = env.last()
            if terminated or truncated:
                final[agent] = info
            env.step(None if terminated or truncated else masked_sample(env, agent, observation))
    assert set(final) == set(env.possible_agents) and not env.agents
    assert all(set(info[KPI_INFO_KEY]) == reported for info in final.values())


def test_unknown_scenarios_and_envs_on_no_base_are_refused():
    with pytest.raises(KeyError, match="unknown scenario 'nope'"):
        pettingzoo_env("nope")
    with pytest.raises(TypeError, match="none of edgeplace's env bases"):
        wrap_env(object())
