"""PPO actor-critic RLModule for item placement: node-attention encoder, per-item logits, value head."""

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import TorchCategorical
from ray.rllib.core.rl_module.apis import InferenceOnlyAPI, ValueFunctionAPI
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.annotations import override
from torch import Tensor

from edgeplace.models.flat_placement_module import FlatPlacementPPOModule
from edgeplace.models.item_scoring_head import ItemScoringHead
from edgeplace.models.mc_dropout import MCDropoutUncertainty
from edgeplace.models.node_attention_encoder import NodeAttentionEncoder
from edgeplace.models.node_encoding import NodeEncoding
from edgeplace.models.placement_module_config import PlacementModuleConfig
from edgeplace.models.placement_obs import PlacementObs, read_obs
from edgeplace.models.uncertainty_api import UncertaintyCriticAPI
from edgeplace.models.value_head import ValueHead, critic_features
from edgeplace.obs_keys import ObsKey


class PlacementPPOModule(TorchRLModule, ValueFunctionAPI, InferenceOnlyAPI, UncertaintyCriticAPI):
    """Masked categorical policy over the M candidate items of a Dict observation, plus a critic.

    Configured by ``model_config`` (see :class:`PlacementModuleConfig`); every dimension is read from
    the observation space, and no weight depends on N, so a module built for one ``max_nodes`` acts on
    observations padded to another. ``_forward_train`` returns the critic features ``z`` (B, 3d) as
    ``Columns.EMBEDDINGS`` so PPO's ``compute_values`` call reuses the encoder pass.
    """

    @override(TorchRLModule)
    def setup(self) -> None:
        self.placement_config = PlacementModuleConfig.from_model_config(self.model_config)
        cfg = self.placement_config
        space: gym.spaces.Dict = self.observation_space
        self.encoder = self._build_encoder()
        self.critic_encoder = None if cfg.share_encoder else self._build_encoder()
        self.item_head = ItemScoringHead(cfg.d_model, space[ObsKey.ITEMS].shape[-1], cfg.item_hidden)
        self.value_head = ValueHead(3 * cfg.d_model, cfg.value_hidden, cfg.value_dropout)
        self.uncertainty_head = MCDropoutUncertainty(3 * cfg.d_model) if cfg.uncertainty else None
        self.action_dist_cls = TorchCategorical

    def _build_encoder(self) -> NodeAttentionEncoder:
        cfg = self.placement_config
        return NodeAttentionEncoder(
            node_dim=self.observation_space[ObsKey.NODES].shape[-1],
            request_dim=self.observation_space[ObsKey.REQUEST].shape[-1],
            d_model=cfg.d_model,
            num_heads=cfg.num_heads,
            self_attention_layers=cfg.self_attention_layers,
            dropout=cfg.dropout,
        )

    def _encode(self, encoder: NodeAttentionEncoder, obs: PlacementObs) -> NodeEncoding:
        return encoder(obs.nodes, obs.node_mask, obs.request, obs.key_mask)

    def _critic_features(self, obs: PlacementObs, actor_encoding: NodeEncoding | None = None) -> Tensor:
        """``z`` (B, 3d) from the critic encoder, reusing ``actor_encoding`` when the encoder is shared."""
        if self.critic_encoder is not None:
            encoding = self._encode(self.critic_encoder, obs)
        else:
            encoding = actor_encoding if actor_encoding is not None else self._encode(self.encoder, obs)
        return critic_features(encoding, obs.node_mask)

    @override(TorchRLModule)
    def _forward(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        obs = read_obs(batch[Columns.OBS])
        encoding = self._encode(self.encoder, obs)
        logits = self.item_head(encoding, obs.items, obs.item_node, obs.action_mask)  # (B, M)
        return {Columns.ACTION_DIST_INPUTS: logits}

    @override(TorchRLModule)
    def _forward_train(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        obs = read_obs(batch[Columns.OBS])
        encoding = self._encode(self.encoder, obs)
        return {
            Columns.ACTION_DIST_INPUTS: self.item_head(encoding, obs.items, obs.item_node, obs.action_mask),
            Columns.EMBEDDINGS: self._critic_features(obs, encoding),  # (B, 3d)
        }

    @override(ValueFunctionAPI)
    def compute_values(self, batch: dict[str, Any], embeddings: Tensor | None = None) -> Tensor:
        """Values (B,) from ``embeddings`` (the ``z`` of ``_forward_train``) or from a fresh critic pass."""
        if embeddings is None:
            embeddings = self._critic_features(read_obs(batch[Columns.OBS]))
        return self.value_head(embeddings)

    @override(UncertaintyCriticAPI)
    def critic_embeddings(self, batch: dict[str, Any]) -> Tensor:
        return self._critic_features(read_obs(batch[Columns.OBS]))

    @override(InferenceOnlyAPI)
    def get_non_inference_attributes(self) -> list[str]:
        return ["critic_encoder", "value_head", "uncertainty_head"]


def placement_module_spec(model_config: Mapping[str, Any] | None = None) -> RLModuleSpec:
    """An RLModuleSpec for the placement module of ``model_config["encoder"]`` (attention:
    :class:`PlacementPPOModule`; flat-mlp: :class:`FlatPlacementPPOModule`); spaces come from the env.
    The config is validated here, so a bad value fails when the algorithm is configured, not on an
    EnvRunner.
    """
    config = PlacementModuleConfig.from_model_config(model_config)
    module_class = PlacementPPOModule if config.encoder == "attention" else FlatPlacementPPOModule
    return RLModuleSpec(module_class=module_class, model_config=config.to_model_config())
