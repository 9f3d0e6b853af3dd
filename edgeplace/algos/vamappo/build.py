"""Build the RLlib config of a VAMAPPO preset (or its plain-PPO ablation) from a TrainConfig."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ray.rllib.algorithms.ppo import PPOConfig

from edgeplace.algos.mappo import build_ppo_config
from edgeplace.algos.train_config import ModuleSharing, TrainConfig
from edgeplace.algos.vamappo.config import VAMAPPOConfig
from edgeplace.algos.vamappo.coordination import Coordination
from edgeplace.algos.vamappo.settings import PRESETS


def build_vamappo_config(
    config: TrainConfig,
    preset: str,
    coordination: Callable[[Mapping[str, Any]], Coordination],
) -> PPOConfig:
    """The preset's config: VAMAPPOConfig with the preset's settings under ``config.algo_options`` and
    the scenario's ``coordination`` builder, or plain PPO (``vamappo-minimal``), with the preset's model
    under ``config.model``."""
    if preset not in PRESETS:
        raise KeyError(f"unknown VAMAPPO preset {preset!r}; known: {sorted(PRESETS)}")
    chosen = PRESETS[preset]
    if chosen.settings is None:
        if config.algo_options:
            raise ValueError(
                f"{preset} is plain PPO; it takes no algo_options, got {dict(config.algo_options)}"
            )
        return build_ppo_config(config, model_defaults=chosen.model)
    if config.module_sharing is not ModuleSharing.SHARED:
        raise ValueError(
            "VAMAPPO shares one actor and one critic across agents (spec e1): use --sharing shared"
        )
    base = (
        VAMAPPOConfig()
        .vamappo(**{**chosen.settings, **config.algo_options})
        .vamappo_coordination(coordination)
    )
    return build_ppo_config(config, base=base, model_defaults=chosen.model)
