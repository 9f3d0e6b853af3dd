"""The lm-inference ``learned`` backend: one PPO iteration of its five modules on the new API stack, the
planner's own discount and learning rate, and greedy policies that act within the masks."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines.lm_inference.reference import make_env
from edgeplace.algos.lm_inference.learned import agent_modules, build_learned_config
from edgeplace.algos.lm_inference.per_module_gae import PerModuleGAE
from edgeplace.algos.lm_inference.policy import LearnedPolicy
from edgeplace.envs.lm_inference import SCENARIO_ID
from edgeplace.envs.lm_inference.env import EpisodeKpi
from edgeplace.evaluation.runner import run_episodes
from tests.algos.lm_inference_tiny import ENV_CONFIG, tiny_learned

MODULES = {"planner", "scheduler", "deployer_cpu", "deployer_1gpu", "deployer_2gpu"}


def test_agents_map_to_the_planner_scheduler_and_per_hardware_deployer_modules():
    mapping = agent_modules(ENV_CONFIG)
    assert mapping == {
        "planner": "planner",
        "scheduler": "scheduler",
        "deployer_VM2": "deployer_cpu",
        **{f"deployer_VM{k}": "deployer_1gpu" for k in range(3, 7)},
        "deployer_VM7": "deployer_2gpu",
    }


@pytest.mark.usefixtures("ray_session")
def test_one_ppo_iteration_trains_every_module_and_the_policy_acts_within_the_masks():
    from ray.tune.registry import register_env

    register_env(SCENARIO_ID, make_env)
    config = tiny_learned()
    algo = build_learned_config(config).build_algo()
    try:
        result = algo.train()
        learner = algo.learner_group._learner
        (gae,) = [piece for piece in learner._learner_connector.connectors if isinstance(piece, PerModuleGAE)]
        policy = LearnedPolicy.from_algorithm(algo, make_env(ENV_CONFIG).possible_agents)
        (kpis,) = run_episodes(lambda: make_env(ENV_CONFIG), policy, seed=0, episodes=1)
    finally:
        algo.stop()
    learners = result["learners"]
    assert set(learners) >= MODULES and all(np.isfinite(learners[m]["policy_loss"]) for m in MODULES)
    assert result["env_runners"]["kpi_objective"] >= 0.0
    assert gae.gammas == {"planner": 0.9, **dict.fromkeys(MODULES - {"planner"}, 0.99)}
    assert learner.config.get_config_for_module("planner").lr == 1e-4
    # Greedy actions of the trained modules stay within the masks: nothing locked, voided or off-role.
    assert kpis[EpisodeKpi.LOCKED] == kpis[EpisodeKpi.VOIDED] == kpis[EpisodeKpi.OFF_ROLE_RATIO] == 0.0


@pytest.mark.usefixtures("ray_session")
def test_iterations_in_which_the_planner_does_not_act_still_count_their_steps():
    # Two slots per iteration and a planner every 5 slots: most iterations sample no planner step, which
    # RLlib 2.60 alone reduces to a NaN step count and fails on (ZeroStepCounts keeps it at 0).
    from ray.tune.registry import register_env

    register_env(SCENARIO_ID, make_env)
    config = tiny_learned(
        train_batch_size=14,
        minibatch_size=14,
        num_envs_per_env_runner=1,
        model={"hidden": [8]},
        algo_options={"stages": "C"},
    )
    algo = build_learned_config(config).build_algo()
    try:
        planner_steps = [
            int(algo.train()["env_runners"]["num_agent_steps_sampled"]["planner"]) for _ in range(4)
        ]
    finally:
        algo.stop()
    assert 0 in planner_steps and sum(planner_steps) >= 1
