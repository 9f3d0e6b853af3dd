"""``LlmMappoConfig``: RLlib's PPOConfig plus LLM-MAPPO's settings, wired to :class:`LlmMappoTorchLearner`."""

from __future__ import annotations

from typing import Any, Self

from ray.rllib.algorithms.ppo import PPO, PPOConfig
from ray.rllib.utils.annotations import override

from edgeplace.algos.llm_mappo.settings import LlmMappoSettings


class LlmMappoConfig(PPOConfig):
    """PPOConfig with a ``.llm_mappo(**settings)`` section (see :class:`LlmMappoSettings`).

    The loss is spec e's Eq. 34-35: PPO's clipped surrogate, value and entropy terms plus the decaying
    KL to the planner's prior; PPO's adaptive KL penalty to the old policy is off (``use_kl_loss``).
    """

    def __init__(self, algo_class: type | None = None) -> None:
        super().__init__(algo_class=algo_class or LlmMappo)
        self.llm_mappo_settings: dict[str, Any] = {}
        self.use_kl_loss = False

    def llm_mappo(self, **settings: Any) -> Self:
        """Set LLM-MAPPO switches and hyperparameters; unknown names and bad values raise here."""
        merged = {**self.llm_mappo_settings, **settings}
        LlmMappoSettings.from_dict(merged)
        self.llm_mappo_settings = merged
        return self

    @override(PPOConfig)
    def get_default_learner_class(self):
        from edgeplace.algos.llm_mappo.learner import LlmMappoTorchLearner

        return LlmMappoTorchLearner

    @override(PPOConfig)
    def validate(self) -> None:
        super().validate()
        LlmMappoSettings.from_dict(self.llm_mappo_settings)
        if self.framework_str != "torch":
            raise ValueError(f"LLM-MAPPO is implemented for torch only, got {self.framework_str!r}")


class LlmMappo(PPO):
    """PPO's training loop with LLM-MAPPO's learner (the algorithm class behind LlmMappoConfig)."""

    @classmethod
    @override(PPO)
    def get_default_config(cls) -> LlmMappoConfig:
        return LlmMappoConfig()
