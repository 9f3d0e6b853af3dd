"""The toy's RLModule for RLlib's PPO: an MLP over the features, masked logits, a value head."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.annotations import override
from torch import Tensor, nn

from edgeplace.models.allowed_actions import allowed_actions
from edgeplace.obs_keys import ObsKey
from edgeplace_toy.env import FEATURES

#: Logit of a masked node (finite, so that softmax stays defined when everything is masked).
MASKED_LOGIT = -1e9


class ToyModule(TorchRLModule, ValueFunctionAPI):
    """``model_config``: ``hidden`` (width of the two hidden layers, default 32).

    Shapes: obs features (B, F), action_mask (B, N) -> logits (B, N); values (B,).
    """

    @override(TorchRLModule)
    def setup(self) -> None:
        unknown = sorted(set(self.model_config) - {"hidden", "vf_share_layers"})
        if unknown:
            raise ValueError(f"toy module: unknown model_config keys {unknown}; known: ['hidden']")
        hidden = int(self.model_config.get("hidden", 32))
        features = self.observation_space[FEATURES].shape[0]
        self.encoder = nn.Sequential(
            nn.Linear(features, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh()
        )
        self.actor = nn.Linear(hidden, self.action_space.n)
        self.critic = nn.Linear(hidden, 1)

    def _logits(self, obs: dict[str, Tensor]) -> Tensor:
        logits = self.actor(self.encoder(obs[FEATURES]))
        return logits.masked_fill(~allowed_actions(obs[ObsKey.ACTION_MASK]), MASKED_LOGIT)

    @override(TorchRLModule)
    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {Columns.ACTION_DIST_INPUTS: self._logits(batch[Columns.OBS])}

    @override(ValueFunctionAPI)
    def compute_values(self, batch: dict[str, Any], embeddings: Tensor | None = None) -> Tensor:
        return self.critic(self.encoder(batch[Columns.OBS][FEATURES])).squeeze(-1)


def toy_module_spec(model_config: Mapping[str, Any]) -> RLModuleSpec:
    """The RLModuleSpec of one toy module (spaces come from the env)."""
    return RLModuleSpec(module_class=ToyModule, model_config=dict(model_config))
