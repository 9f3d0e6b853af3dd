"""Staged training of the lm-inference ``learned`` backend (spec d, "Training"): scripted agents played
inside the env, stages that start from the previous stage's modules, resumption, and the options that
switch the reward mode."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines.lm_inference.policies import HierarchyPolicy
from edgeplace.algos.baselines.lm_inference.reference import REFERENCE, make_env
from edgeplace.algos.checkpoints import MODULE_SUBDIR, latest_checkpoint, read_metadata
from edgeplace.algos.lm_inference.learned import agent_modules, build_learned_config
from edgeplace.algos.lm_inference.policy import LearnedPolicy
from edgeplace.algos.lm_inference.settings import LearnedSettings
from edgeplace.algos.lm_inference.stages import stage_dir, staged_metrics, train_staged
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER
from edgeplace.evaluation.runner import run_episodes
from tests.algos.lm_inference_tiny import ENV_CONFIG, tiny_learned


def _play(env, policy, seed: int) -> tuple[dict[str, float], dict]:
    """One episode; returns each agent's summed reward and the last infos."""
    observations, _ = env.reset(seed=seed)
    returns: dict[str, float] = {}
    while True:
        agents = list(observations)
        actions = dict(zip(agents, policy.act_batch(agents, [observations[a] for a in agents]), strict=True))
        observations, rewards, _, truncated, infos = env.step(actions)
        for agent, reward in rewards.items():
            returns[agent] = returns.get(agent, 0.0) + reward
        if truncated["__all__"]:
            return returns, infos


def test_scripted_agents_leave_the_episode_unchanged_and_hide_from_the_learner():
    full = make_env(ENV_CONFIG)
    scripted = make_env({**ENV_CONFIG, "scripted_agents": [PLANNER, SCHEDULER]})
    assert set(scripted.possible_agents) == set(full.possible_agents) - {PLANNER, SCHEDULER}
    full_returns, full_infos = _play(full, HierarchyPolicy(REFERENCE, 0, ENV_CONFIG), seed=3)
    # The deployers follow the same controller as the scripted agents (one controller per episode).
    returns, infos = _play(scripted, scripted.scripts[PLANNER], seed=3)
    assert set(returns) == set(infos) == set(scripted.possible_agents)
    deployer = scripted.possible_agents[0]
    assert returns[deployer] == pytest.approx(full_returns[deployer])
    assert infos[deployer]["kpis"] == full_infos[deployer]["kpis"]


def test_scripting_an_unknown_agent_or_a_bad_list_is_refused_by_name():
    with pytest.raises(ValueError, match="scripted agents \\['router'\\]"):
        make_env({**ENV_CONFIG, "scripted_agents": ["router"]})
    with pytest.raises(ValueError, match="scripted_agents must be a list"):
        make_env({**ENV_CONFIG, "scripted_agents": "planner"})
    with pytest.raises(ValueError, match="lists an agent twice"):
        make_env({**ENV_CONFIG, "scripted_agents": [PLANNER, PLANNER]})


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"reward_mode": "cohort"}, "learned.reward_mode"),
        ({"stages": "AB"}, "learned.stages"),
        ({"stages": "CA"}, "learned.stages"),
        ({"stage": "C"}, "stage"),
    ],
)
def test_bad_learned_options_are_refused_by_name(options, match):
    with pytest.raises(ValueError, match=match):
        LearnedSettings.from_options(options)


def test_reward_mode_is_an_option_of_the_run():
    config = tiny_learned(
        algo_options={"reward_mode": "cohort_retimed"},
    )
    ppo = build_learned_config(config)
    assert ppo.learner_config_dict["reward_mode"] == "cohort_retimed"
    assert ppo.batch_mode == "complete_episodes"


def test_scripted_agents_have_no_module():
    mapping = agent_modules({**ENV_CONFIG, "scripted_agents": [PLANNER, SCHEDULER]})
    assert PLANNER not in mapping and SCHEDULER not in mapping
    assert set(mapping.values()) == {"deployer_cpu", "deployer_1gpu", "deployer_2gpu"}


def _module_weights(checkpoint, module_id: str) -> list[np.ndarray]:
    module = LearnedPolicy.from_checkpoint(checkpoint).modules[module_id]
    return [p.detach().numpy().copy() for p in module.parameters()]


@pytest.mark.usefixtures("ray_session")
def test_stages_train_bottom_up_from_each_others_modules_and_resume(tmp_path):
    config = tiny_learned(
        timesteps=3 * 90,
        train_batch_size=90,
        minibatch_size=90,
        num_envs_per_env_runner=1,
        model={"hidden": [8]},
    )
    result = train_staged(config, tmp_path)
    a, b, c = (latest_checkpoint(stage_dir(tmp_path, s)) for s in "ABC")
    assert result.checkpoint == c
    assert set(read_metadata(a)["agent_modules"]) == {f"deployer_VM{k}" for k in range(2, 8)}
    assert SCHEDULER in read_metadata(b)["agent_modules"] and PLANNER not in read_metadata(b)["agent_modules"]
    assert PLANNER in read_metadata(c)["agent_modules"]
    # Stage B's scheduler module is new, its deployers start from A's: B's run records where from.
    assert read_metadata(b)["train_config"]["algo_options"]["initial_modules"] == str(a)
    assert (a / MODULE_SUBDIR / "deployer_2gpu").is_dir() and not (a / MODULE_SUBDIR / SCHEDULER).exists()
    # The final policy plays every agent of the full env.
    policy = LearnedPolicy.from_checkpoint(tmp_path / "stage_c")
    (kpis,) = run_episodes(lambda: make_env(ENV_CONFIG), policy, seed=0, episodes=1)
    assert np.isfinite(kpis["objective"])
    # A rerun with resume trains nothing again; the metrics of the three stages line up.
    before = staged_metrics(tmp_path)
    train_staged(config, tmp_path, resume=True)
    after = staged_metrics(tmp_path)
    assert list(after["stage"].unique()) == ["A", "B", "C"]
    assert after["timesteps"].is_monotonic_increasing
    assert len(after) == len(before)


@pytest.mark.usefixtures("ray_session")
def test_a_stage_starts_from_the_modules_of_the_previous_one(tmp_path):
    config = tiny_learned(
        env_config={**ENV_CONFIG, "scripted_agents": [PLANNER, SCHEDULER]},
        timesteps=90,
        train_batch_size=90,
        minibatch_size=90,
        num_envs_per_env_runner=1,
        model={"hidden": [8]},
        algo_options={"stages": "C"},
    )
    first = train_staged(config, tmp_path / "first").checkpoint
    started = config.replace(
        env_config={**ENV_CONFIG, "scripted_agents": [PLANNER]},
        algo_options={"stages": "C", "initial_modules": str(first)},
    )
    algo = build_learned_config(started.replace(timesteps=1)).build_algo()
    try:
        modules = algo.learner_group._learner.module
        loaded = [p.detach().numpy() for p in modules["deployer_1gpu"].parameters()]
        assert SCHEDULER in modules
    finally:
        algo.stop()
    for got, want in zip(loaded, _module_weights(first, "deployer_1gpu"), strict=True):
        np.testing.assert_array_equal(got, want)
