"""``HISPERConfig``: RLlib's AlgorithmConfig plus HISPER's settings, for :class:`HISPER`.

RLlib fields keep their meaning: ``gamma`` (discount, 0.95), ``train_batch_size_per_learner`` (joint
transitions per update, 1000), ``num_envs_per_env_runner`` (parallel envs of the collector, 20),
``seed``, ``num_gpus_per_learner`` (the update runs on a GPU when > 0). Everything else is in
``.hisper(**settings)`` (see :class:`~edgeplace.algos.hisper.settings.HISPERSettings`).
"""

from __future__ import annotations

from typing import Any, Self

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.rllib.utils.annotations import override

from edgeplace.algos.hisper.settings import PRESETS, HISPERSettings, preset_settings

__all__ = ["PRESETS", "HISPERConfig", "preset_config", "validate_joint_config"]


class HISPERConfig(AlgorithmConfig):
    """AlgorithmConfig with a ``.hisper(**settings)`` section; the spec's defaults."""

    def __init__(self, algo_class: type | None = None) -> None:
        if algo_class is None:
            from edgeplace.algos.hisper.algorithm import HISPER

            algo_class = HISPER
        super().__init__(algo_class=algo_class)
        self.hisper_settings: dict[str, Any] = {}
        self.gamma = 0.95
        self.train_batch_size_per_learner = 1000
        self.num_env_runners = 0
        self.num_envs_per_env_runner = 20

    def hisper(self, **settings: Any) -> Self:
        """Set HISPER switches and hyperparameters; unknown names and bad values raise here."""
        merged = {**self.hisper_settings, **settings}
        HISPERSettings.from_dict(merged)
        self.hisper_settings = merged
        return self

    def get_hisper_settings(self) -> HISPERSettings:
        return HISPERSettings.from_dict(self.hisper_settings)

    @override(AlgorithmConfig)
    def validate(self) -> None:
        super().validate()
        validate_joint_config(self, self.get_hisper_settings().steps_per_iteration)
        if self.train_batch_size_per_learner < 1:
            raise ValueError(
                f"train_batch_size_per_learner must be >= 1, got {self.train_batch_size_per_learner}"
            )


def validate_joint_config(config: AlgorithmConfig, steps_per_iteration: int) -> None:
    """The RLlib settings every joint-transition algorithm (HISPER, HAPPO) needs; errors quote them."""
    name = type(config).__name__.removesuffix("Config")
    if config.framework_str != "torch":
        raise ValueError(f"{name} is implemented for torch only")
    if config.num_learners != 0:
        raise ValueError(
            f"{name} updates in the algorithm process (one local learner): num_learners must be 0, "
            f"got {config.num_learners}; use num_gpus_per_learner to put it on a GPU"
        )
    if config.num_env_runners != 0:
        raise ValueError(
            f"{name} collects with its own vectorised collector: num_env_runners must be 0, got "
            f"{config.num_env_runners}; set num_envs_per_env_runner for parallel envs"
        )
    if steps_per_iteration % config.num_envs_per_env_runner:
        raise ValueError(
            f"steps_per_iteration ({steps_per_iteration}) must be a multiple of "
            f"num_envs_per_env_runner ({config.num_envs_per_env_runner})"
        )
    if not 0.0 <= config.gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {config.gamma}")


def preset_config(preset: str, **overrides: Any) -> HISPERConfig:
    """A HISPERConfig with ``preset``'s switches (and ``overrides``) in its hisper section."""
    preset_settings(preset, overrides)  # names a bad preset or override
    return HISPERConfig().hisper(**{**PRESETS[preset], **overrides})
