"""MAPPO end to end on a tiny budget: train, checkpoint, restore the trained module, resume, evaluate
zero-shot on a topology of another size."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns

from edgeplace.algos.checkpoints import METADATA_FILE, CheckpointError, latest_checkpoint, resolve_checkpoint
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.algos.registry import build_algorithm_config
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import METRICS_FILE, train
from edgeplace.envs.genai_chain import GenAIChainEnv
from edgeplace.evaluation.runner import run_episodes
from edgeplace.policy import act
from tests.conftest import TINY_TRAINING as TINY


@pytest.fixture(scope="module")
def trained_run(ray_session, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("mappo")
    config = TrainConfig(env_config={"topology": "synthetic:genai-small"}, **TINY)
    rows = []
    result = train(config, run_dir, on_iteration=rows.append)
    return config, run_dir, result, rows


def test_training_writes_checkpoint_metrics_and_curve(trained_run):
    _, run_dir, result, rows = trained_run
    assert result.timesteps >= 200 and len(rows) == result.iterations
    assert latest_checkpoint(run_dir) == result.checkpoint
    metadata = json.loads((result.checkpoint / METADATA_FILE).read_text())
    assert metadata["agent_modules"] == {f"stage_{i}": "shared" for i in range(1, 6)}
    metrics = (run_dir / METRICS_FILE).read_text().splitlines()
    assert metrics[0].startswith("iteration,timesteps,wall_s") and len(metrics) == 1 + result.iterations
    assert result.curve_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list((run_dir / "checkpoints").glob(".*iter_*")), "no staging directories left behind"


def test_restored_policy_acts_like_the_trained_module(ray_session, tmp_path):
    config = TrainConfig(env_config={"topology": "synthetic:genai-small"}, **TINY)
    algo = build_algorithm_config(config).build_algo()
    try:
        algo.train()
        trained = algo.get_module("shared")
        from edgeplace.algos.checkpoints import save_checkpoint

        checkpoint = save_checkpoint(algo, tmp_path, 1, {"agent_modules": {"stage_1": "shared"}}, keep=1)
    finally:
        algo.stop()
    env = GenAIChainEnv({"topology": "synthetic:genai-small"})
    obs, _ = env.reset(seed=0)
    batch = {key: torch.from_numpy(value[None]) for key, value in obs["stage_1"].items()}
    with torch.no_grad():
        expected = trained.forward_inference({Columns.OBS: batch})[Columns.ACTION_DIST_INPUTS].numpy()
    restored = ModulePolicy.from_checkpoint(checkpoint, name="mappo")
    np.testing.assert_allclose(restored.logits(["stage_1"], [obs["stage_1"]]), expected, rtol=1e-5, atol=1e-5)


def test_resume_continues_from_the_latest_checkpoint(trained_run):
    config, run_dir, result, _ = trained_run
    resumed = train(config.replace(timesteps=400), run_dir, resume=True)
    assert resumed.iterations == result.iterations + 1
    assert len((run_dir / METRICS_FILE).read_text().splitlines()) == 1 + resumed.iterations


def test_resume_without_checkpoint_and_bad_paths_fail_clearly(ray_session, tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train(TrainConfig(**TINY), tmp_path, resume=True)
    with pytest.raises(CheckpointError, match="not an edgeplace checkpoint"):
        resolve_checkpoint(tmp_path)


def test_checkpoint_acts_zero_shot_on_a_larger_topology(trained_run):
    _, run_dir, _, _ = trained_run
    policy = ModulePolicy.from_checkpoint(run_dir, name="mappo")
    config = {"topology": "synthetic:genai-medium", "split": "test"}  # 50 nodes, padded to 64 (trained: 32)
    env = GenAIChainEnv(config)
    obs, _ = env.reset(seed=0)
    action = act(policy, obs)["stage_1"]
    assert obs["stage_1"]["action_mask"][action] == 1
    kpis = run_episodes(lambda: GenAIChainEnv(config), policy, seed=0, episodes=2)
    assert len(kpis) == 2 and 0 <= kpis[0]["sla_satisfaction"] <= 1


def test_per_agent_modules_train_and_act(ray_session, tmp_path):
    config = TrainConfig(env_config={"topology": "synthetic:genai-small"}, module_sharing="per-agent", **TINY)
    result = train(config, tmp_path)
    policy = ModulePolicy.from_checkpoint(result.checkpoint)
    assert policy.agent_modules == {f"stage_{i}": f"stage_{i}" for i in range(1, 6)}
    assert set(policy.modules.keys()) == set(policy.agent_modules.values())
    env_config = {"topology": "synthetic:genai-small"}
    kpis = run_episodes(lambda: GenAIChainEnv(env_config), policy, seed=0, episodes=1)
    assert len(kpis) == 1
