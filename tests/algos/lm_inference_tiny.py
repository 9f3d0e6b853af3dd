"""The tiny lm-inference runs the learned-backend tests share: 3 epochs of 5 slots (108 decisions per
episode) and one-epoch PPO iterations on small networks."""

from __future__ import annotations

from typing import Any

from edgeplace.algos.train_config import TrainConfig
from edgeplace.envs.lm_inference import SCENARIO_ID

ENV_CONFIG = {"epochs": 3, "epoch_slots": 5, "warmup_epochs": 1, "drain_slots": 2}


def tiny_learned(**fields: Any) -> TrainConfig:
    """A ``learned`` run on :data:`ENV_CONFIG`: two episodes per iteration, one epoch, width 16;
    ``fields`` override any TrainConfig field."""
    defaults: dict[str, Any] = {
        "scenario": SCENARIO_ID,
        "algo": "learned",
        "env_config": ENV_CONFIG,
        "timesteps": 216,
        "train_batch_size": 216,
        "minibatch_size": 108,
        "num_epochs": 1,
        "num_envs_per_env_runner": 2,
        "model": {"hidden": [16]},
    }
    return TrainConfig(**{**defaults, **fields})
