"""``VAMAPPOConfig``: RLlib's PPOConfig plus VAMAPPO's settings, wired to :class:`VAMAPPOTorchLearner`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Self

from ray.rllib.algorithms.ppo import PPO, PPOConfig
from ray.rllib.utils.annotations import override

from edgeplace.algos.vamappo.settings import VAMAPPOSettings

if TYPE_CHECKING:
    from edgeplace.algos.vamappo.coordination import Coordination


class VAMAPPOConfig(PPOConfig):
    """PPOConfig with a ``.vamappo(**settings)`` section (see :class:`VAMAPPOSettings`).

    VAMAPPO's own clipping, gate and KL terms replace PPO's KL penalty, so ``use_kl_loss`` is off;
    ``clip_param`` is the clip of the first iterations (and the fixed clip without ``adaptive_clip``);
    ``minibatch_size`` is split evenly over the agents (320 = 5 x 64). ``coordination`` builds the
    scenario's :class:`Coordination` from the env config (the scenario's spec names it).
    """

    def __init__(self, algo_class: type | None = None) -> None:
        super().__init__(algo_class=algo_class or VAMAPPO)
        self.vamappo_settings: dict[str, Any] = {}
        self.coordination: Callable[[Mapping[str, Any]], Coordination] | None = None
        self.use_kl_loss = False

    def vamappo(self, **settings: Any) -> Self:
        """Set VAMAPPO switches and hyperparameters; unknown names and bad values raise here."""
        merged = {**self.vamappo_settings, **settings}
        VAMAPPOSettings.from_dict(merged)
        self.vamappo_settings = merged
        return self

    def vamappo_coordination(self, builder: Callable[[Mapping[str, Any]], Coordination]) -> Self:
        """Set the ``env_config -> Coordination`` builder of the scenario being trained."""
        self.coordination = builder
        return self

    @override(PPOConfig)
    def get_default_learner_class(self):
        from edgeplace.algos.vamappo.learner import VAMAPPOTorchLearner

        return VAMAPPOTorchLearner

    @override(PPOConfig)
    def validate(self) -> None:
        super().validate()
        VAMAPPOSettings.from_dict(self.vamappo_settings)
        if self.coordination is None:
            raise ValueError(
                "VAMAPPO needs the scenario's coordination builder: call .vamappo_coordination()"
            )
        if self.framework_str != "torch":
            raise ValueError("VAMAPPO is implemented for torch only")


class VAMAPPO(PPO):
    """PPO's training loop with VAMAPPO's learner (the algorithm class behind VAMAPPOConfig)."""

    @classmethod
    @override(PPO)
    def get_default_config(cls) -> VAMAPPOConfig:
        return VAMAPPOConfig()
