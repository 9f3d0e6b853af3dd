"""Section f's learned baselines on metaverse-dag (papers/llm-mappo.md): RSPPO-like, GNN-DRL and
mu-DDRL-like set their env options and model switches over MAPPO, reject conflicting settings, and a
tiny run of each checkpoints and evaluates through the scenario's policy loader and the runner."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.checkpoints import read_metadata
from edgeplace.algos.llm_mappo.build import baseline_run_config
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.algos.registry import build_algorithm_config, run_training
from edgeplace.algos.train_config import ModuleSharing
from edgeplace.scenarios import get_scenario
from tests.algos.test_llm_mappo_training import SCENARIO, evaluate, tiny

BASELINES = ("rsppo", "gnn-drl", "mu-ddrl")


def test_each_baseline_sets_its_env_options_model_switches_and_sharing():
    rsppo, gnn, mu = (baseline_run_config(tiny(algo), algo) for algo in BASELINES)
    assert rsppo.env_config | {"horizon": 10} == {
        "horizon": 10,
        "planner": "none",
        "autoscaler": True,
        "potential_shaping": True,
    }
    assert rsppo.model["use_gru"] is False and rsppo.module_sharing is ModuleSharing.SHARED
    assert gnn.model["encoder"] == "sage" and gnn.model["use_gru"] is False
    assert gnn.env_config["planner"] == "none" and "autoscaler" not in gnn.env_config
    assert mu.env_config["reward_scope"] == "local" and mu.module_sharing is ModuleSharing.PER_AGENT
    assert mu.model["critic_input"] == "local" and mu.model["neighbour_input"] is True
    config = build_algorithm_config(tiny("mu-ddrl"))
    assert len(config.policies) == 4  # independent PPO: one module per EC
    assert config.env_config["reward_scope"] == "local"


@pytest.mark.parametrize(
    ("algo", "change", "named"),
    [
        ("rsppo", {"env_config": {"horizon": 10, "planner": "heuristic"}}, "planner"),
        ("rsppo", {"env_config": {"horizon": 10, "autoscaler": False}}, "autoscaler"),
        ("gnn-drl", {"model": {"use_gru": True}}, "use_gru"),
        ("gnn-drl", {"model": {"prior_logits": True}}, "prior_logits"),
        ("mu-ddrl", {"env_config": {"reward_scope": "global"}}, "reward_scope"),
        ("mu-ddrl", {"model": {"critic_input": "state"}}, "critic_input"),
    ],
)
def test_a_conflicting_setting_raises_naming_it(algo, change, named):
    with pytest.raises(ValueError, match=named):
        build_algorithm_config(tiny(algo).replace(**change))


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize("algo", BASELINES)
def test_a_tiny_run_checkpoints_and_evaluates_through_the_runner(algo, tmp_path):
    result = run_training(tiny(algo), tmp_path)
    metadata = read_metadata(result.checkpoint)
    env_config = metadata["env_config"]  # what the policy trained on, its env options included
    assert env_config == baseline_run_config(tiny(algo), algo).env_config
    policy = get_scenario(SCENARIO).policy_from_checkpoint(result.checkpoint, env_config=env_config)
    assert isinstance(policy, ModulePolicy)
    assert len(set(policy.agent_modules.values())) == (4 if algo == "mu-ddrl" else 1)
    assert not any(module.is_stateful() for module in policy.modules.values())  # no GRU
    kpis = evaluate(policy, env_config, 1)
    assert len(kpis) == 3 and all(np.isfinite(list(row.values())).all() for row in kpis)
