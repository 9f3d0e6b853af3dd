"""VAMAPPO end to end on a tiny budget, its presets, and its learner state across checkpoints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ray.rllib.algorithms.ppo import PPOConfig

from edgeplace.algos.checkpoints import save_checkpoint
from edgeplace.algos.registry import algorithms_for, build_algorithm_config
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import METRICS_FILE, train
from edgeplace.algos.vamappo.config import VAMAPPOConfig
from edgeplace.algos.vamappo.settings import PRESETS
from tests.conftest import TINY_TRAINING as TINY

#: VAMAPPO needs minibatches that split over the 5 agents.
TINY_VAMAPPO = {**TINY, "algo": "vamappo", "env_config": {"topology": "synthetic:genai-small"}}


def _tiny(algo: str, **overrides) -> TrainConfig:
    return TrainConfig(**{**TINY_VAMAPPO, "algo": algo, **overrides})


def test_every_preset_is_an_algorithm_with_its_own_model_and_learner():
    assert set(PRESETS) <= set(algorithms_for("genai-chain"))
    configs = {
        name: build_algorithm_config(TrainConfig(**{**TINY_VAMAPPO, "algo": name})) for name in PRESETS
    }
    assert type(configs["vamappo-minimal"]) is PPOConfig  # the plain PPO learner
    assert all(isinstance(configs[name], VAMAPPOConfig) for name in PRESETS if name != "vamappo-minimal")
    assert configs["vamappo-no-uncertainty"].vamappo_settings == {"uncertainty": False}
    assert configs["vamappo-no-enhancement"].vamappo_settings == {"enhancement": False}
    model = configs["vamappo-no-attention"].rl_module_spec.rl_module_specs["shared"].model_config
    assert model["encoder"] == "flat-mlp" and model["uncertainty"] and model["d_model"] == 16  # TINY wins


def test_options_override_the_preset_and_bad_ones_fail_before_training():
    config = build_algorithm_config(TrainConfig(**TINY_VAMAPPO, algo_options={"top_k_ratio": 1.0}))
    assert config.vamappo_settings == {"top_k_ratio": 1.0}
    with pytest.raises(ValueError, match="unknown keys \\['topk'\\]"):
        build_algorithm_config(TrainConfig(**TINY_VAMAPPO, algo_options={"topk": 0.5}))
    with pytest.raises(ValueError, match="sharing shared"):
        build_algorithm_config(TrainConfig(**TINY_VAMAPPO, module_sharing="per-agent"))
    with pytest.raises(ValueError, match="takes no algo_options"):
        build_algorithm_config(
            TrainConfig(**{**TINY_VAMAPPO, "algo": "vamappo-minimal"}, algo_options={"a": 1})
        )


def test_training_logs_gate_clip_and_learning_rate_and_resumes(ray_session, tmp_path):
    config = TrainConfig(**{**TINY_VAMAPPO, "timesteps": 400})
    result = train(config, tmp_path)
    metrics = pd.read_csv(tmp_path / METRICS_FILE)
    assert len(metrics) == result.iterations == 2
    alpha = metrics["shared/vamappo/alpha"]
    assert ((alpha >= 0.1) & (alpha <= 1.0)).all()
    assert (metrics["shared/vamappo/weight"] >= 1.0).all()
    assert metrics["shared/vamappo/clip_eps"].tolist() == [0.2, 0.2]  # warm-up iterations
    lr = metrics["shared/default_optimizer_learning_rate"]
    assert lr.iloc[1] < lr.iloc[0]  # linear decay
    resumed = train(config.replace(timesteps=600), tmp_path, resume=True)
    assert resumed.iterations == 3


def test_learner_state_survives_a_checkpoint(ray_session, tmp_path):
    config = TrainConfig(**TINY_VAMAPPO)
    algo = build_algorithm_config(config).build_algo()
    try:
        algo.train()
        algo.train()
        state = algo.learner_group._learner.vamappo_state
        checkpoint = save_checkpoint(algo, tmp_path, 2, {"agent_modules": {}}, keep=1)
        saved = state.to_dict()
    finally:
        algo.stop()
    restored = build_algorithm_config(config).build_algo()
    try:
        restored.restore_from_path(str(checkpoint))
        loaded = restored.learner_group._learner.vamappo_state
        assert loaded.iteration == 2
        assert list(loaded.clip.steps) == saved["clip_steps"]
        np.testing.assert_allclose(loaded.consistency, saved["consistency"])
    finally:
        restored.stop()
