"""PPO learner of AgentVNE: the pre-trained similarity network as the starting point, separate Adam
optimisers for the policy (similarity network) and the value network, and a value warm-up in which the
policy is frozen (papers/agentvne.md, section f, "PPO")."""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.utils.annotations import override
from ray.rllib.utils.typing import ModuleID, ParamDict

#: ``learner_config_dict`` keys.
PRETRAINED, VALUE_LR, VALUE_WARMUP_UPDATES = "pretrained", "value_lr", "value_warmup_updates"
POLICY_OPTIMIZER, VALUE_OPTIMIZER = "policy", "value"


class AgentVNELearner(PPOTorchLearner):
    """PPO with two optimisers per AgentVNE module (``policy``: lr ``config.lr``; ``value``: lr
    ``learner_config_dict["value_lr"]``). During the first ``value_warmup_updates`` updates the policy's
    gradients are dropped, so only the value network moves.

    ``learner_config_dict["pretrained"]`` (a pre-training checkpoint, or None) is loaded into every
    module's similarity network when the learner is built; RLlib then syncs the weights to the
    EnvRunners before the first sample, and a restored run overwrites them with its own state.
    """

    @override(PPOTorchLearner)
    def build(self) -> None:
        self._updates_done = 0
        super().build()
        pretrained = self.config.learner_config_dict.get(PRETRAINED)
        if pretrained:
            for module in self.module.values():
                module.unwrapped().load_pretrained(pretrained)

    @override(PPOTorchLearner)
    def configure_optimizers_for_module(self, module_id: ModuleID, config: Any = None) -> None:
        module = self._module[module_id]
        settings = config.learner_config_dict
        for name, part, lr in (
            (POLICY_OPTIMIZER, module.similarity, config.lr),
            (VALUE_OPTIMIZER, module.value_net, settings[VALUE_LR]),
        ):
            params = self.get_parameters(part)
            self.register_optimizer(
                module_id=module_id,
                optimizer_name=name,
                optimizer=torch.optim.Adam(params),
                params=params,
                lr_or_lr_schedule=lr,
            )

    @property
    def warming_up(self) -> bool:
        """Whether the policy is still frozen."""
        return self._updates_done < self.config.learner_config_dict[VALUE_WARMUP_UPDATES]

    @override(PPOTorchLearner)
    def apply_gradients(self, gradients_dict: ParamDict) -> None:
        if self.warming_up:
            frozen = {
                self.get_param_ref(p)
                for module in self._module.values()
                for p in self.get_parameters(module.similarity)
            }
            for ref in frozen:
                self._params[ref].grad = None  # Adam skips parameters without a gradient
            gradients_dict = {ref: grad for ref, grad in gradients_dict.items() if ref not in frozen}
        super().apply_gradients(gradients_dict)

    @override(PPOTorchLearner)
    def after_gradient_based_update(self, *, timesteps: dict[str, Any]) -> None:
        super().after_gradient_based_update(timesteps=timesteps)
        self._updates_done += 1
