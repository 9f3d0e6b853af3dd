"""LLM-MAPPO's TorchLearner: PPO's loss plus ``lambda_KL * exp(-t / tau) * E[KL(pi_theta(place) ||
pi_LLM)]`` (spec e, Eq. 34-35), with separate Adam optimizers for the actor and the critic.

t counts training episodes: the env steps sampled so far (RLlib's ``NUM_ENV_STEPS_SAMPLED_LIFETIME``,
which the algorithm hands every learner update, including the batch being learned from) divided by the
episode length; it is read once per update, before the gradient steps.
"""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.core.columns import Columns
from ray.rllib.utils.annotations import override
from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

from edgeplace.algos.llm_mappo.prior_kl import placement_prior_kl
from edgeplace.algos.llm_mappo.settings import (
    ACTOR_OPTIMIZER,
    CRITIC_OPTIMIZER,
    LlmMappoMetric,
    LlmMappoSettings,
)
from edgeplace.models.llm_mappo_config import DagObsKey


def scaled_lr(lr: float | list, factor: float) -> float | list:
    """A learning rate or RLlib schedule ``[[t, lr], ...]`` multiplied by ``factor``."""
    return [[t, value * factor] for t, value in lr] if isinstance(lr, list | tuple) else lr * factor


class LlmMappoTorchLearner(PPOTorchLearner):
    """See the module docstring. Metrics under the module id: :class:`LlmMappoMetric` and
    ``actor_learning_rate`` / ``critic_learning_rate``."""

    @override(PPOTorchLearner)
    def build(self) -> None:
        self.settings = LlmMappoSettings.from_dict(self.config.llm_mappo_settings)
        self.episodes = 0.0
        super().build()

    @override(PPOTorchLearner)
    def configure_optimizers_for_module(self, module_id: str, config: Any = None) -> None:
        """Adam on the actor (the run's ``lr``) and Adam on the critic (``critic_lr``, following the
        actor's schedule in proportion)."""
        module = self._module[module_id]
        critic = list(module.unwrapped().critic.parameters())
        critic_ids = {id(p) for p in critic}
        actor = [p for p in self.get_parameters(module) if id(p) not in critic_ids]
        base_lr = config.lr[0][1] if isinstance(config.lr, list | tuple) else config.lr
        for name, params, lr in (
            (ACTOR_OPTIMIZER, actor, config.lr),
            (CRITIC_OPTIMIZER, critic, scaled_lr(config.lr, self.settings.critic_lr / base_lr)),
        ):
            self.register_optimizer(
                module_id=module_id,
                optimizer_name=name,
                optimizer=torch.optim.Adam(params, betas=(0.9, 0.999), eps=1e-8),
                params=params,
                lr_or_lr_schedule=lr,
            )

    @override(PPOTorchLearner)
    def before_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        super().before_gradient_based_update(timesteps=timesteps)
        self.episodes = timesteps.get(NUM_ENV_STEPS_SAMPLED_LIFETIME, 0) / self.settings.episode_steps

    @override(PPOTorchLearner)
    def compute_loss_for_module(
        self, *, module_id: str, config: Any, batch: dict[str, Any], fwd_out: dict[str, Any]
    ) -> torch.Tensor:
        total = super().compute_loss_for_module(
            module_id=module_id, config=config, batch=batch, fwd_out=fwd_out
        )
        weight = self.settings.kl_weight(self.episodes)
        stats = {LlmMappoMetric.KL_COEFF.value: weight, LlmMappoMetric.EPISODES.value: self.episodes}
        if weight > 0:
            kl = self._mean(batch, self.prior_kl(module_id, batch, fwd_out))
            total = total + weight * kl
            stats[LlmMappoMetric.PRIOR_KL.value] = kl.detach()
        self.metrics.log_dict(stats, key=module_id, window=1)
        return total

    def prior_kl(self, module_id: str, batch: dict[str, Any], fwd_out: dict[str, Any]) -> torch.Tensor:
        """The placement KL of every sample. Shapes: -> (B,) or (B, T)."""
        module = self.module[module_id].unwrapped()
        s, o = module.num_slots, module.num_options
        place = fwd_out[Columns.ACTION_DIST_INPUTS][..., : s * o].unflatten(-1, (s, o))
        return placement_prior_kl(place, batch[Columns.OBS][DagObsKey.PLAN_PRIOR].float())

    @staticmethod
    def _mean(batch: dict[str, Any], values: torch.Tensor) -> torch.Tensor:
        """Mean over the real (not zero-padded) timesteps. Shapes: (B,) or (B, T) -> ()."""
        if Columns.LOSS_MASK in batch:
            mask = batch[Columns.LOSS_MASK]
            return values[mask].sum() / mask.sum().clamp(min=1)
        return values.mean()
