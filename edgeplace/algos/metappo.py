"""METAPPO (VAMAPPO spec f): MAPPO trained in the env with load-aware reward and task migration."""

from __future__ import annotations

from ray.rllib.algorithms.ppo import PPOConfig

from edgeplace.algos.mappo import build_ppo_config
from edgeplace.algos.train_config import TrainConfig

#: The env settings METAPPO trains and is evaluated with.
METAPPO_ENV = {"load_aware_migration": True}


def build_metappo_config(config: TrainConfig) -> PPOConfig:
    """MAPPO's config on the run's env with :data:`METAPPO_ENV` on top."""
    return build_ppo_config(config.replace(env_config={**config.env_config, **METAPPO_ENV}))
