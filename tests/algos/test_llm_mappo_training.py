"""MAPPO and LLM-MAPPO on metaverse-dag at a tiny budget and tiny widths: train, checkpoint, load the
scenario's policy and evaluate it through the runner, the GRU state carried per env copy and reset at
every episode; the KL decay clock; the restored policy acts like the trained algorithm."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from edgeplace.algos.checkpoints import checkpoint_metadata, read_metadata, save_checkpoint
from edgeplace.algos.llm_mappo.settings import MEMORY_DIR, RLLIB_DIR
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.algos.registry import build_algorithm_config, run_training
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import train
from edgeplace.evaluation.runner import run_episodes
from edgeplace.planners.soft_plans.memory import STATE_FILE
from edgeplace.scenarios import get_scenario

SCENARIO = "metaverse-dag"
HORIZON, AGENTS = 10, 4
TINY_MODEL = {
    "node_width": 8,
    "slot_width": 8,
    "plan_width": 4,
    "gru_size": 8,
    "actor_hidden": [8],
    "pointer_width": 8,
    "route_width": 8,
    "critic_hidden": [8],
    "max_seq_len": 5,
}


def tiny(algo: str) -> TrainConfig:
    """160 decisions: 40 env steps of 2 env copies, 4 episodes of 10 steps."""
    return TrainConfig(
        scenario=SCENARIO,
        algo=algo,
        env_config={"horizon": HORIZON},
        timesteps=160,
        train_batch_size=160,
        minibatch_size=80,
        num_epochs=1,
        num_envs_per_env_runner=2,
        checkpoint_every=1,
        lr_decay=False,
        model=TINY_MODEL,
    )


@pytest.fixture(scope="module", params=["mappo", "llm-mappo"])
def trained(request, ray_session, tmp_path_factory):
    rows: list[dict] = []
    config = tiny(request.param)
    result = train(config, tmp_path_factory.mktemp(request.param), on_iteration=rows.append)
    return config, result, rows


def evaluate(policy, env_config: dict, num_envs: int) -> list[dict]:
    spec = get_scenario(SCENARIO)
    return run_episodes(lambda: spec.make_env(env_config), policy, seed=1, episodes=3, num_envs=num_envs)


def test_training_counts_episodes_for_the_kl_decay(trained):
    config, result, rows = trained
    row = rows[-1]
    episodes = result.timesteps / AGENTS / HORIZON  # env steps sampled / horizon
    assert row["shared/llm_mappo/episodes"] == pytest.approx(episodes)
    if config.algo == "mappo":
        assert row["shared/llm_mappo/kl_coeff"] == 0.0 and "shared/llm_mappo/prior_kl" not in row
    else:
        assert row["shared/llm_mappo/kl_coeff"] == pytest.approx(0.1 * math.exp(-episodes / 150))
        assert math.isfinite(row["shared/llm_mappo/prior_kl"]) and row["shared/llm_mappo/prior_kl"] >= 0
    assert all(math.isfinite(row[f"shared/{key}"]) for key in ("policy_loss", "vf_loss", "entropy"))
    assert row["shared/actor_learning_rate"] == pytest.approx(3e-4)  # separate Adams (spec e)
    assert row["shared/critic_learning_rate"] == pytest.approx(1e-3)


def test_a_checkpoint_evaluates_through_the_runner_with_its_state_per_env_copy(trained):
    """Episode e is the same whichever env copy plays it, so a GRU state carried per copy and reset at
    every episode gives the same KPIs on 1 and 2 copies. Planner ``none`` here: the ``heuristic``
    planner carries its own state from one episode of an env copy to the next (see the report)."""
    config, result, _ = trained
    env_config = {**config.env_config, "planner": "none"}
    policy = get_scenario(SCENARIO).policy_from_checkpoint(result.checkpoint, env_config=env_config)
    assert isinstance(policy, ModulePolicy) and policy.modules["shared"].is_stateful()
    one_copy, two_copies = evaluate(policy, env_config, 1), evaluate(policy, env_config, 2)
    assert one_copy == two_copies
    assert all(np.isfinite(list(kpis.values())).all() for kpis in one_copy)
    assert policy.states, "the last steps' states are kept per (env copy, agent)"
    policy.reset_streams([stream for stream, _ in policy.states])
    assert not policy.states


@pytest.mark.usefixtures("ray_session")
def test_the_restored_policy_acts_like_the_trained_algorithm(tmp_path):
    config = tiny("llm-mappo")
    agents = get_scenario(SCENARIO).make_env(config.env_config).possible_agents
    algo = build_algorithm_config(config).build_algo()
    try:
        algo.train()
        live = ModulePolicy.from_algorithm(algo, agents)
        modules = {agent: "shared" for agent in agents}
        metadata = checkpoint_metadata(config, modules, iteration=1, timesteps=0, wall_s=0.0)
        checkpoint = save_checkpoint(algo, tmp_path, 1, metadata, keep=1)
        env_config = {**config.env_config, "planner": "heuristic"}
        played_live = evaluate(live, env_config, 2)
    finally:
        algo.stop()
    restored = get_scenario(SCENARIO).policy_from_checkpoint(checkpoint)
    assert evaluate(restored, env_config, 2) == played_live


@pytest.mark.usefixtures("ray_session")
def test_llm_mappo_bootstraps_its_planner_memory_once_and_records_it_in_the_checkpoints(tmp_path):
    config = tiny("llm-mappo").replace(algo_options={"memory_windows": 8, "memory_epochs": 1})
    result = run_training(config, tmp_path)
    memory = tmp_path / MEMORY_DIR
    assert (memory / STATE_FILE).is_file() and result.checkpoint.is_relative_to(tmp_path / RLLIB_DIR)
    env_config = read_metadata(result.checkpoint)["env_config"]
    assert env_config["planner"] == "memory"
    assert Path(env_config["planner_options"]["memory_dir"]) == memory.resolve()
    stamp = (memory / STATE_FILE).stat().st_mtime_ns
    again = run_training(config.replace(timesteps=320), tmp_path, resume=True)
    assert again.timesteps > result.timesteps and (memory / STATE_FILE).stat().st_mtime_ns == stamp
