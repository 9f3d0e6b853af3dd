"""An actor-critic of two MLPs over named observation entries, with masked logits for a Discrete or a
MultiDiscrete action: the lm-inference agents' module (spec d, "Models": masked-logit TorchRLModule with
ValueFunctionAPI, 2 x 256 MLPs; the critic reads the MAPPO ``global_state`` besides the agent's own
features).

``model_config`` (:class:`MaskedMlpConfig`): ``actor_inputs`` and ``critic_inputs`` name the
observation entries each MLP reads (flattened and concatenated in that order); ``hidden`` the widths.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import TorchMultiCategorical
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.annotations import override
from torch import Tensor, nn

from edgeplace.config_mapping import model_config_values
from edgeplace.models.allowed_actions import allowed_actions
from edgeplace.models.item_scoring_head import MASKED_LOGIT
from edgeplace.obs_keys import ObsKey


@dataclass(frozen=True)
class MaskedMlpConfig:
    """Architecture of :class:`MaskedMlpModule`."""

    actor_inputs: tuple[str, ...]
    """Observation entries the actor reads."""
    critic_inputs: tuple[str, ...]
    """Observation entries the critic reads."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden widths of both MLPs (tanh)."""

    def __post_init__(self) -> None:
        for name in ("actor_inputs", "critic_inputs", "hidden"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.actor_inputs or not self.critic_inputs:
            raise ValueError("MaskedMlpConfig: actor_inputs and critic_inputs must name observation entries")
        if any(width < 1 for width in self.hidden):
            raise ValueError(f"MaskedMlpConfig.hidden: widths must be >= 1, got {list(self.hidden)}")

    @classmethod
    def from_model_config(cls, model_config: Mapping[str, Any]) -> Self:
        """From an RLlib ``model_config`` (RLlib's own keys skipped, unknown ones rejected)."""
        values = model_config_values(cls, model_config, "MaskedMlpModule model_config")
        missing = [
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.name not in values
        ]
        if missing:
            raise ValueError(f"MaskedMlpModule model_config: missing {missing}")
        return cls(**values)


def mlp(inputs: int, hidden: tuple[int, ...], outputs: int) -> nn.Sequential:
    """Linear-tanh layers of widths ``hidden``, then a Linear to ``outputs``. Shapes: (B, inputs) ->
    (B, outputs)."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(inputs, width), nn.Tanh()]
        inputs = width
    return nn.Sequential(*layers, nn.Linear(inputs, outputs))


class MaskedMlpModule(TorchRLModule, ValueFunctionAPI):
    """See the module docstring.

    Shapes: each input entry (B, ...) -> logits (B, n) for Discrete(n), (B, sum(nvec)) for a
    MultiDiscrete (masked entries at MASKED_LOGIT); values (B,).
    """

    @override(TorchRLModule)
    def setup(self) -> None:
        config = MaskedMlpConfig.from_model_config(self.model_config)
        self.actor_inputs, self.critic_inputs = config.actor_inputs, config.critic_inputs
        if isinstance(self.action_space, gym.spaces.MultiDiscrete):
            sizes = [int(n) for n in self.action_space.nvec]
            self.action_dist_cls = TorchMultiCategorical.get_partial_dist_cls(input_lens=sizes)
        else:
            sizes = [int(self.action_space.n)]
        self.actor = mlp(self._width(self.actor_inputs), config.hidden, sum(sizes))
        self.critic = mlp(self._width(self.critic_inputs), config.hidden, 1)

    def _width(self, keys: tuple[str, ...]) -> int:
        missing = [key for key in keys if key not in self.observation_space.spaces]
        if missing:
            raise ValueError(f"MaskedMlpModule: observations have no entries {missing}")
        return sum(int(np.prod(self.observation_space[key].shape)) for key in keys)

    @staticmethod
    def _flat(obs: Mapping[str, Tensor], keys: tuple[str, ...]) -> Tensor:
        """Shapes: entries (B, ...) -> (B, sum of their sizes) float32."""
        return torch.cat([obs[key].flatten(start_dim=1).float() for key in keys], dim=1)

    @override(TorchRLModule)
    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        logits = self.actor(self._flat(obs, self.actor_inputs))
        allowed = allowed_actions(obs[ObsKey.ACTION_MASK])
        allowed = allowed if isinstance(allowed, Tensor) else torch.cat(allowed, dim=1)  # (B, sum(nvec))
        return {Columns.ACTION_DIST_INPUTS: logits.masked_fill(~allowed, MASKED_LOGIT)}

    @override(ValueFunctionAPI)
    def compute_values(self, batch: dict[str, Any], embeddings: Tensor | None = None) -> Tensor:
        return self.critic(self._flat(batch[Columns.OBS], self.critic_inputs)).squeeze(-1)


def masked_mlp_spec(model_config: Mapping[str, Any]) -> RLModuleSpec:
    """The RLModuleSpec of one module (spaces come from the env)."""
    return RLModuleSpec(module_class=MaskedMlpModule, model_config=dict(model_config))
