"""Masks in Gymnasium's layout reach RLModules as RLlib batches them: an int8 tensor for a Discrete action,
a tuple of (B, n_k) tensors for a MultiDiscrete one, on the env runner and in the learner alike."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import TorchMultiCategorical
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.core.rl_module.torch import TorchRLModule
from torch import Tensor, nn

from edgeplace.models.allowed_actions import allowed_actions
from edgeplace.models.item_scoring_head import MASKED_LOGIT
from edgeplace.obs_keys import ObsKey
from tests.algos.test_hisper_any_env import PickEnv


def test_allowed_actions_of_both_layouts():
    discrete = torch.tensor([[1, 0, 1]], dtype=torch.int8)
    assert allowed_actions(discrete).tolist() == [[True, False, True]]
    parts = allowed_actions(
        (torch.tensor([[0, 1]], dtype=torch.int8), torch.tensor([[1, 1, 0]], dtype=torch.int8))
    )
    assert isinstance(parts, tuple) and [part.tolist() for part in parts] == [
        [[False, True]],
        [[True, True, False]],
    ]


class TupleMaskModule(TorchRLModule, ValueFunctionAPI):
    """A linear actor over a MultiDiscrete action that refuses any mask but a tuple of (B, n_k) int8
    tensors. Shapes: obs entries (B, ...) -> logits (B, sum(n_k)); values (B,)."""

    def setup(self) -> None:
        self.sizes = [int(n) for n in self.action_space.nvec]
        self.keys = [key for key in self.observation_space.spaces if key != ObsKey.ACTION_MASK]
        width = sum(gym.spaces.flatdim(self.observation_space[key]) for key in self.keys)
        self.actor, self.critic = nn.Linear(width, sum(self.sizes)), nn.Linear(width, 1)
        self.action_dist_cls = TorchMultiCategorical.get_partial_dist_cls(input_lens=self.sizes)

    def _features(self, obs: dict[str, Any]) -> Tensor:
        return torch.cat([obs[key].flatten(1).float() for key in self.keys], dim=-1)  # (B, F)

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        mask = obs[ObsKey.ACTION_MASK]
        batch_size = obs[self.keys[0]].shape[0]
        if not (
            isinstance(mask, tuple)
            and [tuple(part.shape) for part in mask] == [(batch_size, n) for n in self.sizes]
        ):
            raise TypeError(f"expected a tuple of (B, n_k) masks, got {type(mask).__name__}")
        if any(part.dtype != torch.int8 for part in mask):
            raise TypeError(f"expected int8 masks, got {[part.dtype for part in mask]}")
        allowed = torch.cat(allowed_actions(mask), dim=-1)  # (B, sum(n_k))
        return {
            Columns.ACTION_DIST_INPUTS: self.actor(self._features(obs)).masked_fill(~allowed, MASKED_LOGIT)
        }

    def compute_values(self, batch: dict[str, Any], embeddings: Tensor | None = None) -> Tensor:
        return self.critic(self._features(batch[Columns.OBS])).squeeze(-1)


@pytest.mark.usefixtures("ray_session")
def test_rllib_batches_tuple_masks_for_the_module_and_samples_only_allowed_actions():
    """PPO samples an env whose masks change every step (a masked action would raise in the env) and
    learns from the batch, with the masks as a tuple of tensors everywhere."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec

    agents = list(PickEnv.AGENTS)
    config = (
        PPOConfig()
        .environment(PickEnv, disable_env_checking=True)
        .multi_agent(policies=set(agents), policy_mapping_fn=lambda agent, *args, **kwargs: agent)
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(
                rl_module_specs={agent: RLModuleSpec(module_class=TupleMaskModule) for agent in agents}
            )
        )
        .env_runners(num_env_runners=0)
        .training(train_batch_size_per_learner=64, minibatch_size=32, num_epochs=1)
        .debugging(seed=0)
    )
    algo = config.build_algo()
    try:
        result = algo.train()
    finally:
        algo.stop()
    assert all(np.isfinite(result["learners"][agent]["policy_loss"]) for agent in agents)
