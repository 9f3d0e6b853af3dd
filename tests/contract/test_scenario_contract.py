"""The contract every registered scenario meets, checked with no test written for it: seeding,
masking, KPIs, baselines, sweep files, and checkpoints that act like the policy they saved."""

from __future__ import annotations

import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from edgeplace.algos.checkpoints import checkpoint_metadata, save_checkpoint
from edgeplace.algos.registry import build_algorithm_config
from edgeplace.envs.base import ALL_AGENTS, EPISODE_INDEX_OPTION, KPI_INFO_KEY, MaskedActionError
from edgeplace.evaluation.runner import run_episodes
from edgeplace.obs_keys import ObsKey
from edgeplace.policy import PolicyUnavailable, act
from edgeplace.scenarios import scenario_ids
from edgeplace.tuning import SweepSpec
from tests.contract.conftest import Smoke

BUILT_IN = {"genai-chain", "agent-vne", "dnn-inference"}


def test_the_built_in_scenarios_are_registered_through_entry_points():
    assert set(scenario_ids()) >= BUILT_IN


def play(smoke: Smoke, seed: int, *, episode: int | None = None) -> tuple[list, list, dict]:
    """One episode of ``smoke``'s first baseline from ``reset(seed=...)``: (observations, rewards, KPIs)."""
    spec = smoke.spec
    env = spec.make_env(smoke.env_config)
    policy = spec.make_baseline(min(spec.baselines), seed=seed, env_config=smoke.env_config)
    options = {} if episode is None else {EPISODE_INDEX_OPTION: episode}
    observations, _ = env.reset(seed=seed, options=options)
    seen, rewards = [observations], []
    while True:
        observations, reward, terminated, truncated, infos = env.step(act(policy, observations))
        seen.append(observations)
        rewards.append(reward)
        if terminated[ALL_AGENTS] or truncated[ALL_AGENTS]:
            return seen, rewards, infos


def assert_same_observations(first: list, second: list) -> None:
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        assert a.keys() == b.keys()
        for agent in a:
            for key in a[agent]:  # arrays, and the tuples of a MultiDiscrete action's mask
                assert data_equivalence(a[agent][key], b[agent][key], exact=True), f"{agent}/{key}"


def test_same_seed_same_episode(smoke):
    seen, rewards, infos = play(smoke, seed=5)
    seen_again, rewards_again, infos_again = play(smoke, seed=5)
    assert_same_observations(seen, seen_again)
    assert rewards == rewards_again
    timed = set(smoke.spec.wall_clock_kpis)
    kpis, kpis_again = (next(iter(i.values()))[KPI_INFO_KEY] for i in (infos, infos_again))
    assert {k: v for k, v in kpis.items() if k not in timed} == {
        k: v for k, v in kpis_again.items() if k not in timed
    }


def test_an_episode_index_replays_that_episode_alone(smoke):
    """``reset(seed=s, options={episode_index: e})`` is episode e of seed s, as evaluation replays it."""
    env = smoke.spec.make_env(smoke.env_config)
    env.reset(seed=9)
    second, _ = env.reset()  # episode 1 of seed 9, after episode 0
    replayed, _ = smoke.spec.make_env(smoke.env_config).reset(seed=9, options={EPISODE_INDEX_OPTION: 1})
    assert_same_observations([second], [replayed])


def test_every_agent_reports_the_declared_kpis_at_episode_end(smoke):
    _, _, infos = play(smoke, seed=1)
    agents = smoke.spec.make_env(smoke.env_config).possible_agents
    for agent, info in infos.items():
        assert set(info[KPI_INFO_KEY]) == smoke.spec.reported_kpis(agents), agent
        assert all(isinstance(value, float) for value in info[KPI_INFO_KEY].values()), agent


def test_observations_are_in_their_spaces_and_masked_samples_are_allowed(smoke):
    """Every observation lies in its agent's observation space, and its ``action_mask`` (where it has
    one) is in Gymnasium's layout: ``space.sample(mask=...)`` draws actions the env accepts, a whole
    episode long."""
    env = smoke.spec.make_env(smoke.env_config)
    observations, _ = env.reset(seed=6)
    for n, space in enumerate(env.action_spaces.values()):
        space.seed(6 + n)
    while True:
        for agent, observation in observations.items():
            assert env.observation_spaces[agent].contains(observation), agent
        actions = {
            agent: env.action_spaces[agent].sample(mask=observation.get(ObsKey.ACTION_MASK))
            for agent, observation in observations.items()
        }
        observations, _, terminated, truncated, _ = env.step(actions)
        if terminated[ALL_AGENTS] or truncated[ALL_AGENTS]:
            break
    assert all(env.observation_spaces[agent].contains(obs) for agent, obs in observations.items())


def forbidden_action(space: gym.Space, observation: dict) -> int | np.ndarray:
    """An action the observation's mask forbids, else one outside the action space."""
    if isinstance(space, gym.spaces.Discrete):
        masked = np.flatnonzero(np.asarray(observation.get(ObsKey.ACTION_MASK, np.ones(space.n))) <= 0)
        return int(masked[0]) if masked.size else int(space.n)
    if isinstance(space, gym.spaces.MultiDiscrete):
        action = np.zeros(space.nvec.shape, dtype=np.int64)
        action.flat[0] = space.nvec.flat[0]  # one past the first dimension's range
        return action
    raise TypeError(f"no forbidden action known for {space}")


def test_a_forbidden_action_raises_and_leaves_the_env_unchanged(smoke):
    spec = smoke.spec
    env, twin = spec.make_env(smoke.env_config), spec.make_env(smoke.env_config)
    observations, _ = env.reset(seed=2)
    twin.reset(seed=2)
    policy = spec.make_baseline(min(spec.baselines), seed=0, env_config=smoke.env_config)
    allowed = act(policy, observations)
    agent = next(iter(observations))
    bad = {**allowed, agent: forbidden_action(env.action_spaces[agent], observations[agent])}
    with pytest.raises(MaskedActionError, match=agent):
        env.step(bad)
    after, rewards, *_ = env.step(allowed)
    twin_after, twin_rewards, *_ = twin.step(allowed)
    assert_same_observations([after], [twin_after])
    assert rewards == twin_rewards


def test_every_baseline_plays_an_episode(smoke):
    agents = smoke.spec.make_env(smoke.env_config).possible_agents
    for name in sorted(smoke.spec.baselines):  # not the trained_baselines: they need a checkpoint
        try:
            policy = smoke.spec.make_baseline(name, seed=0, env_config=smoke.env_config)
        except PolicyUnavailable:  # an outside service (an LLM endpoint) that CI does not have
            continue
        (kpis,) = run_episodes(lambda: smoke.spec.make_env(smoke.env_config), policy, seed=0, episodes=1)
        assert set(kpis) == smoke.spec.reported_kpis(agents), name


def test_its_sweep_files_validate(smoke):
    if not smoke.spec.sweep_files:
        pytest.skip(f"{smoke.spec.scenario_id} ships no sweep files")
    for path in smoke.spec.sweep_paths():
        sweep = SweepSpec.from_yaml(Path(str(path)))
        assert sweep.train.scenario == smoke.spec.scenario_id, path
        assert sweep.train.algo in smoke.spec.algorithms, path


def test_a_restored_checkpoint_acts_like_the_saved_policy(smoke, trained):
    result = trained(smoke)
    spec, env_config = smoke.spec, smoke.env_config
    from_checkpoint = spec.policy_from_checkpoint(result.checkpoint, name="trained", env_config=env_config)
    from_run_dir = spec.policy_from_checkpoint(result.run_dir, name="trained", env_config=env_config)
    runs = [
        run_episodes(lambda: spec.make_env(env_config), policy, seed=3, episodes=2, num_envs=2)
        for policy in (from_checkpoint, from_run_dir)
    ]
    timed = set(spec.wall_clock_kpis)
    assert [{k: v for k, v in kpis.items() if k not in timed} for kpis in runs[0]] == [
        {k: v for k, v in kpis.items() if k not in timed} for kpis in runs[1]
    ]
    agents = spec.make_env(env_config).possible_agents
    assert all(set(kpis) == spec.reported_kpis(agents) for kpis in runs[0])
    assert all(math.isfinite(value) or math.isnan(value) for kpis in runs[0] for value in kpis.values())


@pytest.mark.usefixtures("ray_session")
def test_a_restored_checkpoint_acts_like_the_trained_algorithm(smoke, tmp_path):
    """One iteration of the smoke run, then the algorithm's own policy and the one its checkpoint
    restores play the same episodes alike."""
    if smoke.train is None:
        pytest.skip(f"{smoke.spec.scenario_id} ships no smoke sweep to train")
    spec, config, env_config = smoke.spec, smoke.train, smoke.env_config
    live_policy = spec.algorithm(config.algo).live_policy
    if live_policy is None:
        pytest.skip(f"{config.algo} declares no live_policy")
    agents = spec.make_env(env_config).possible_agents
    algo = build_algorithm_config(config).build_algo()
    try:
        algo.train()
        live = live_policy(algo, agents)
        modules = {agent: algo.config.policy_mapping_fn(agent, None) for agent in agents}
        metadata = checkpoint_metadata(config, modules, iteration=1, timesteps=0, wall_s=0.0)
        checkpoint = save_checkpoint(algo, tmp_path, 1, metadata, keep=1)
    finally:
        algo.stop()
    restored = spec.policy_from_checkpoint(checkpoint, env_config=env_config)
    timed = set(spec.wall_clock_kpis)
    played = [
        [
            {k: v for k, v in kpis.items() if k not in timed}
            for kpis in run_episodes(lambda: spec.make_env(env_config), policy, seed=4, episodes=2)
        ]
        for policy in (live, restored)
    ]
    assert played[0] == played[1]
