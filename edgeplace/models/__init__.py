"""Torch blocks and the RLModules built from them (DESIGN.md "Models")."""

from edgeplace.models.item_scoring_head import MASKED_LOGIT, ItemScoringHead
from edgeplace.models.node_attention_encoder import NodeAttentionEncoder
from edgeplace.models.node_encoding import NodeEncoding
from edgeplace.models.placement_module_config import PlacementModuleConfig
from edgeplace.models.placement_obs import PlacementObs, read_obs
from edgeplace.models.placement_ppo_module import PlacementPPOModule, placement_module_spec
from edgeplace.models.single_query_attention import SingleQueryAttention
from edgeplace.models.value_head import ValueHead, critic_features

__all__ = [
    "MASKED_LOGIT",
    "ItemScoringHead",
    "NodeAttentionEncoder",
    "NodeEncoding",
    "PlacementModuleConfig",
    "PlacementObs",
    "PlacementPPOModule",
    "SingleQueryAttention",
    "ValueHead",
    "critic_features",
    "placement_module_spec",
    "read_obs",
]
