"""PPO's torch learner with per-module discounts (:class:`PerModuleGAE` in place of RLlib's GAE piece)
and the reward mode of ``learner_config_dict`` (:mod:`.cohort_retimed`)."""

from __future__ import annotations

from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.connectors.learner.general_advantage_estimation import GeneralAdvantageEstimation
from ray.rllib.utils.annotations import override

from edgeplace.algos.lm_inference.cohort_retimed import CohortRetimedRewards, check_reward_mode
from edgeplace.algos.lm_inference.per_module_gae import PerModuleGAE
from edgeplace.algos.lm_inference.settings import RewardMode


class PerModuleGammaPPOLearner(PPOTorchLearner):
    """Each module discounts with ``config.get_config_for_module(module).gamma``; in ``cohort_retimed``
    reward mode the slot-level agents' rewards are re-timed first.

    Raises:
        ValueError: (on build) an unknown reward mode, or ``cohort_retimed`` without complete episodes.
    """

    @override(PPOTorchLearner)
    def build(self) -> None:
        mode = check_reward_mode(self.config)
        super().build()
        if self._learner_connector is None:
            return
        if mode is RewardMode.COHORT_RETIMED:
            self._learner_connector.prepend(CohortRetimedRewards())
        if not self.config.add_default_connectors_to_learner_pipeline:
            return
        gammas = {mid: self.config.get_config_for_module(mid).gamma for mid, _ in self.module.items()}
        self._learner_connector.remove(GeneralAdvantageEstimation)
        self._learner_connector.append(
            PerModuleGAE(gammas=gammas, gamma=self.config.gamma, lambda_=self.config.lambda_)
        )
