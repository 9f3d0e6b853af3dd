"""A masked Q-network RLModule for RLlib's DQN (new API stack): an MLP over named observation entries,
Q-values of forbidden actions at -inf.

RLlib 2.60's DQN handles -inf Q-values: its learner gathers the taken action's Q and the next state's
best with ``nan_to_num(neginf=0)`` (the taken and the best actions are allowed, so finite), and its
epsilon-greedy draws random actions only among finite Q-values. This module draws its own masked
random actions all the same, so masking does not rest on that detail.

``model_config`` (:class:`MaskedQConfig`) plus the keys DQNConfig adds (``double_q``, ``epsilon``
schedule, ...; dueling and distributional Q are not supported).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import torch
from ray.rllib.algorithms.dqn.default_dqn_rl_module import QF_NEXT_PREDS, QF_PREDS, QF_TARGET_NEXT_PREDS
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.annotations import override
from ray.rllib.utils.schedules.scheduler import Scheduler
from torch import Tensor

from edgeplace.config_mapping import model_config_values
from edgeplace.models.allowed_actions import allowed_actions
from edgeplace.models.masked_mlp_module import mlp
from edgeplace.models.target_q_networks import TargetQNetworks
from edgeplace.obs_keys import ObsKey

#: Keys DQNConfig merges into every module's model_config (``_model_config_auto_includes``).
DQN_MODEL_CONFIG_KEYS = frozenset(
    {"double_q", "dueling", "epsilon", "num_atoms", "std_init", "v_max", "v_min"}
)


@dataclass(frozen=True)
class MaskedQConfig:
    """Architecture of :class:`MaskedQModule`."""

    inputs: tuple[str, ...]
    """Observation entries the Q-network reads (flattened, concatenated in this order)."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden widths (tanh)."""

    def __post_init__(self) -> None:
        for name in ("inputs", "hidden"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.inputs:
            raise ValueError("MaskedQConfig.inputs: name at least one observation entry")
        if any(width < 1 for width in self.hidden):
            raise ValueError(f"MaskedQConfig.hidden: widths must be >= 1, got {list(self.hidden)}")

    @classmethod
    def from_model_config(cls, model_config: Mapping[str, Any]) -> Self:
        """From an RLlib ``model_config`` (DQN's and RLlib's own keys skipped, unknown ones rejected)."""
        values = model_config_values(
            cls, model_config, "MaskedQModule model_config", ignored=DQN_MODEL_CONFIG_KEYS
        )
        if "inputs" not in values:
            raise ValueError("MaskedQModule model_config: missing ['inputs']")
        if model_config.get("dueling") or model_config.get("num_atoms", 1) > 1:
            raise ValueError("MaskedQModule: dueling and distributional Q (num_atoms > 1) are not supported")
        return cls(**values)


class MaskedQModule(TargetQNetworks, TorchRLModule):
    """See the module docstring.

    Shapes: each input entry (B, ...) and ``action_mask`` (B, n) -> Q-values (B, n), -inf where masked.
    """

    @override(TorchRLModule)
    def setup(self) -> None:
        config = MaskedQConfig.from_model_config(self.model_config)
        self.inputs = config.inputs
        self.uses_double_q = bool(self.model_config.get("double_q", True))
        self.epsilon_schedule = Scheduler(fixed_value_or_schedule=self.model_config.get("epsilon", 0.0))
        missing = [key for key in self.inputs if key not in self.observation_space.spaces]
        if missing:
            raise ValueError(f"MaskedQModule: observations have no entries {missing}")
        width = sum(int(np.prod(self.observation_space[key].shape)) for key in self.inputs)
        self.q_net = mlp(width, config.hidden, int(self.action_space.n))

    def _q(self, net: torch.nn.Module, obs: Mapping[str, Tensor]) -> Tensor:
        """Masked Q-values of ``net``. Shapes: -> (B, n)."""
        features = torch.cat([obs[key].flatten(start_dim=1).float() for key in self.inputs], dim=1)
        return net(features).masked_fill(~allowed_actions(obs[ObsKey.ACTION_MASK]), float("-inf"))

    @override(TorchRLModule)
    def _forward_inference(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Tensor]:
        """Greedy actions (B,), and the masked Q-values as ``action_dist_inputs`` (B, n)."""
        q = self.compute_q_values(batch)[QF_PREDS]
        return {Columns.ACTIONS: q.argmax(dim=1), Columns.ACTION_DIST_INPUTS: q}

    @override(TorchRLModule)
    def _forward_exploration(self, batch: dict[str, Any], t: int, **kwargs: Any) -> dict[str, Tensor]:
        """Epsilon-greedy over the allowed actions (epsilon scheduled on RLlib's timestep ``t``)."""
        q = self.compute_q_values(batch)[QF_PREDS]
        self.epsilon_schedule.update(t)
        epsilon = float(self.epsilon_schedule.get_current_value())
        random = torch.multinomial(torch.isfinite(q).float(), num_samples=1).squeeze(1)
        explore = torch.rand(q.shape[0], device=q.device) < epsilon
        return {Columns.ACTIONS: torch.where(explore, random, q.argmax(dim=1))}

    @override(TorchRLModule)
    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Tensor]:
        """Q of the batch's states, the target net's Q of the next states and, for double Q, the online
        net's Q of the next states. Shapes: each (B, n)."""
        out = {QF_PREDS: self._q(self.q_net, batch[Columns.OBS])}
        if self.uses_double_q:
            out[QF_NEXT_PREDS] = self._q(self.q_net, batch[Columns.NEXT_OBS])
        out[QF_TARGET_NEXT_PREDS] = self._q(self._target_q_net, batch[Columns.NEXT_OBS])
        return out
