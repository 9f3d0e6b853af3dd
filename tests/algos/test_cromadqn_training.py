"""CROMADQN-like on metaverse-dag at a tiny budget, tiny widths and a tiny replay: train through the
shared training loop, checkpoint, load the scenario's policy and play episodes through the runner; the
restored policy acts like the trained algorithm; the Serve placer places with it (its greedy action per
branch)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgeplace.algos.checkpoints import checkpoint_metadata, save_checkpoint
from edgeplace.algos.cromadqn.settings import CROMADQN_LEARNER_METRICS
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.algos.registry import build_algorithm_config
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import train
from edgeplace.envs.metaverse_dag.config import MetaverseDagConfig
from edgeplace.evaluation.runner import run_episodes
from edgeplace.scenarios import get_scenario
from edgeplace.serve.metaverse_dag_placer import MetaverseDagPlacer
from edgeplace.serve.metaverse_dag_schemas import MetaversePlacement, MetaversePlaceRequest

SCENARIO, ALGO = "metaverse-dag", "cromadqn"
HORIZON, AGENTS = 10, 4
TINY_MODEL = {
    "node_width": 8,
    "slot_width": 8,
    "trunk_hidden": [8],
    "value_hidden": 8,
    "pointer_width": 8,
    "route_width": 8,
}
TINY_OPTIONS = {
    "batch_size": 16,
    "replay_capacity": 200,
    "target_update_steps": 10,
    "learning_starts": 10,
    "iteration_steps": 20,
}


def tiny() -> TrainConfig:
    """160 decisions: 40 env steps of 2 env copies (4 episodes of 10 steps), 2 iterations of 20."""
    return TrainConfig(
        scenario=SCENARIO,
        algo=ALGO,
        env_config={"horizon": HORIZON},
        timesteps=160,
        num_envs_per_env_runner=2,
        checkpoint_every=1,
        model=TINY_MODEL,
        algo_options=TINY_OPTIONS,
    )


def evaluate(policy, env_config: dict) -> list[dict]:
    spec = get_scenario(SCENARIO)
    return run_episodes(lambda: spec.make_env(env_config), policy, seed=1, episodes=2, num_envs=2)


@pytest.mark.usefixtures("ray_session")
def test_a_tiny_run_trains_checkpoints_evaluates_serves_and_resumes(tmp_path):
    rows: list[dict] = []
    config = tiny()
    result = train(config, tmp_path, on_iteration=rows.append)
    assert result.timesteps >= config.timesteps and result.iterations == 2
    assert all(math.isfinite(rows[-1][f"shared/{metric}"]) for metric in CROMADQN_LEARNER_METRICS)
    policy = get_scenario(SCENARIO).policy_from_checkpoint(result.checkpoint, env_config=config.env_config)
    assert isinstance(policy, ModulePolicy)
    kpis = evaluate(policy, config.env_config)
    assert len(kpis) == 2 and all(np.isfinite(list(row.values())).all() for row in kpis)
    placer = MetaverseDagPlacer(policy, MetaverseDagConfig.from_env_config(config.env_config), top_k=2)
    job = placer.job(MetaversePlaceRequest.model_validate(placer.example().model_dump(mode="json")))
    (document,) = placer.place([job])
    (action,) = policy.act_batch([placer.agent_ids[job.region]], [job.observation])
    placed = MetaversePlacement.model_validate_json(document)
    c = job.dag.service_class
    options = [replica.option for service in placed.microservices for replica in service.replicas]
    slots = [
        placer.slot_of[c][i, r]
        for i, service in enumerate(placed.microservices)
        for r in range(len(service.replicas))
    ]
    assert options == action[slots].tolist()
    again = train(config.replace(timesteps=320), tmp_path, resume=True)  # restores the RLlib run
    assert again.timesteps >= 320 and again.iterations > result.iterations


@pytest.mark.usefixtures("ray_session")
def test_the_restored_policy_acts_like_the_trained_algorithm(tmp_path):
    config = tiny()
    agents = get_scenario(SCENARIO).make_env(config.env_config).possible_agents
    algo = build_algorithm_config(config).build_algo()
    try:
        algo.train()  # 24 env steps: past the epsilon schedule's end (half of 160 / 4 ECs = 20 env steps)
        explorer = algo.get_module("shared")
        # RLlib syncs the env runner's lifetime step count (exploration's clock) once per iteration
        explorer.epsilon_schedule.update(algo.env_runner.num_env_steps_sampled_lifetime)
        assert explorer.epsilon_schedule.get_current_value() == pytest.approx(0.05)
        live = get_scenario(SCENARIO).algorithm(ALGO).live_policy(algo, agents)
        metadata = checkpoint_metadata(config, dict.fromkeys(agents, "shared"), 1, 0, 0.0)
        checkpoint = save_checkpoint(algo, tmp_path, 1, metadata, keep=1)
        played_live = evaluate(live, config.env_config)
    finally:
        algo.stop()
    restored = get_scenario(SCENARIO).policy_from_checkpoint(checkpoint)
    assert evaluate(restored, config.env_config) == played_live
