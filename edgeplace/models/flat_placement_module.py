"""VAMAPPO's w/o-attention ablation: a flat MLP over the request and the padded node matrix."""

from typing import Any

import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.distribution.torch.torch_distribution import TorchCategorical
from ray.rllib.core.rl_module.apis import InferenceOnlyAPI, ValueFunctionAPI
from ray.rllib.core.rl_module.torch import TorchRLModule
from ray.rllib.utils.annotations import override
from torch import Tensor, nn

from edgeplace.models.allowed_actions import allowed_actions
from edgeplace.models.item_scoring_head import MASKED_LOGIT, OUTPUT_INIT_GAIN
from edgeplace.models.layers import mlp
from edgeplace.models.mc_dropout import MCDropoutUncertainty
from edgeplace.models.placement_module_config import PlacementModuleConfig
from edgeplace.models.uncertainty_api import UncertaintyCriticAPI
from edgeplace.models.value_head import ValueHead
from edgeplace.obs_keys import ObsKey


class FlatPlacementPPOModule(TorchRLModule, ValueFunctionAPI, InferenceOnlyAPI, UncertaintyCriticAPI):
    """``e = MLP([request, flatten(nodes * node_mask)])`` (widths ``flat_hidden``), a masked
    ``Linear(e -> M)`` actor and a value MLP on the critic's own ``e`` (``share_encoder=False``) or the
    actor's. Unlike :class:`PlacementPPOModule` the weights depend on ``max_nodes`` and M, so a
    checkpoint only acts on observations of the same padded shape.

    Shapes: obs request (B, F_req), nodes (B, N, F_node), action_mask (B, M) -> logits (B, M), z (B, E).
    """

    @override(TorchRLModule)
    def setup(self) -> None:
        cfg = PlacementModuleConfig.from_model_config(self.model_config)
        space = self.observation_space
        nodes_shape = space[ObsKey.NODES].shape
        in_features = space[ObsKey.REQUEST].shape[-1] + nodes_shape[0] * nodes_shape[1]
        width = cfg.flat_hidden[-1]
        self.encoder = mlp(in_features, cfg.flat_hidden[:-1], width)
        self.critic_encoder = (
            None if cfg.share_encoder else mlp(in_features, cfg.flat_hidden[:-1], width, cfg.value_dropout)
        )
        self.actor = nn.Linear(width, space[ObsKey.ACTION_MASK].shape[-1])
        nn.init.orthogonal_(self.actor.weight, gain=OUTPUT_INIT_GAIN)
        nn.init.zeros_(self.actor.bias)
        self.value_head = ValueHead(width, cfg.value_hidden, cfg.value_dropout)
        self.uncertainty_head = MCDropoutUncertainty(width) if cfg.uncertainty else None
        self.action_dist_cls = TorchCategorical

    @staticmethod
    def _flat_input(obs: dict[str, Tensor]) -> Tensor:
        nodes = obs[ObsKey.NODES] * obs[ObsKey.NODE_MASK].unsqueeze(-1)  # (B, N, F_node)
        return torch.cat([obs[ObsKey.REQUEST], nodes.flatten(1)], dim=-1)

    def _logits(self, obs: dict[str, Tensor], embedding: Tensor) -> Tensor:
        return self.actor(embedding).masked_fill(~allowed_actions(obs[ObsKey.ACTION_MASK]), MASKED_LOGIT)

    def _critic_embedding(self, flat: Tensor, actor_embedding: Tensor | None = None) -> Tensor:
        if self.critic_encoder is not None:
            return torch.relu(self.critic_encoder(flat))
        return actor_embedding if actor_embedding is not None else torch.relu(self.encoder(flat))

    @override(TorchRLModule)
    def _forward(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        embedding = torch.relu(self.encoder(self._flat_input(obs)))
        return {Columns.ACTION_DIST_INPUTS: self._logits(obs, embedding)}

    @override(TorchRLModule)
    def _forward_train(self, batch: dict[str, Any], **kwargs) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        flat = self._flat_input(obs)
        embedding = torch.relu(self.encoder(flat))
        return {
            Columns.ACTION_DIST_INPUTS: self._logits(obs, embedding),
            Columns.EMBEDDINGS: self._critic_embedding(flat, embedding),
        }

    @override(ValueFunctionAPI)
    def compute_values(self, batch: dict[str, Any], embeddings: Tensor | None = None) -> Tensor:
        if embeddings is None:
            embeddings = self.critic_embeddings(batch)
        return self.value_head(embeddings)

    @override(UncertaintyCriticAPI)
    def critic_embeddings(self, batch: dict[str, Any]) -> Tensor:
        return self._critic_embedding(self._flat_input(batch[Columns.OBS]))

    @override(InferenceOnlyAPI)
    def get_non_inference_attributes(self) -> list[str]:
        return ["critic_encoder", "value_head", "uncertainty_head"]
