"""``HAPPOConfig``: RLlib's AlgorithmConfig plus HAPPO's settings, for
:class:`~edgeplace.algos.hisper.happo.HAPPO`.

RLlib fields keep their meaning: ``gamma`` (0.95), ``num_envs_per_env_runner`` (20), ``seed``,
``num_gpus_per_learner``. Everything else is in ``.happo(**settings)`` (see :class:`HAPPOSettings`).
"""

from __future__ import annotations

from typing import Any, Self

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.rllib.utils.annotations import override

from edgeplace.algos.hisper.config import validate_joint_config
from edgeplace.algos.hisper.happo_settings import HAPPOSettings


class HAPPOConfig(AlgorithmConfig):
    """AlgorithmConfig with a ``.happo(**settings)`` section; the spec's defaults."""

    def __init__(self, algo_class: type | None = None) -> None:
        if algo_class is None:
            from edgeplace.algos.hisper.happo import HAPPO

            algo_class = HAPPO
        super().__init__(algo_class=algo_class)
        self.happo_settings: dict[str, Any] = {}
        self.gamma = 0.95
        self.num_env_runners = 0
        self.num_envs_per_env_runner = 20

    def happo(self, **settings: Any) -> Self:
        """Set HAPPO hyperparameters; unknown names and bad values raise here."""
        merged = {**self.happo_settings, **settings}
        HAPPOSettings.from_dict(merged)
        self.happo_settings = merged
        return self

    def get_happo_settings(self) -> HAPPOSettings:
        return HAPPOSettings.from_dict(self.happo_settings)

    @override(AlgorithmConfig)
    def validate(self) -> None:
        super().validate()
        validate_joint_config(self, self.get_happo_settings().steps_per_iteration)
