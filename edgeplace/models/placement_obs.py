"""Typed tensors of one batch of item-placement Dict observations (keys in ``edgeplace.obs_keys``)."""

from collections.abc import Mapping
from typing import NamedTuple

import torch
from torch import Tensor

from edgeplace.models.allowed_actions import allowed_actions
from edgeplace.obs_keys import ObsKey


class PlacementObs(NamedTuple):
    """One batch of item-placement observations as typed tensors (see ``edgeplace.obs_keys``).

    Shapes:
        request (B, F_req), nodes (B, N, F_node), node_mask (B, N) bool, items (B, M, F_item),
        item_node (B, M) int64, action_mask (B, M) bool, key_mask (B, N) bool
    """

    request: Tensor
    nodes: Tensor
    node_mask: Tensor
    items: Tensor
    item_node: Tensor
    action_mask: Tensor
    key_mask: Tensor
    """Nodes hosting at least one allowed item."""


def read_obs(obs: Mapping[str, Tensor]) -> PlacementObs:
    """Type an RLlib batch of Dict observations and derive the cross-attention key mask."""
    nodes = obs[ObsKey.NODES]
    item_node = obs[ObsKey.ITEM_NODE].long()  # (B, M); may arrive as float
    action_mask = allowed_actions(obs[ObsKey.ACTION_MASK])  # (B, M)
    allowed_per_node = torch.zeros(nodes.shape[:2], device=nodes.device).scatter_add_(
        1, item_node, action_mask.float()
    )  # (B, N)
    return PlacementObs(
        request=obs[ObsKey.REQUEST],
        nodes=nodes,
        node_mask=obs[ObsKey.NODE_MASK] > 0.5,
        items=obs[ObsKey.ITEMS],
        item_node=item_node,
        action_mask=action_mask,
        key_mask=allowed_per_node > 0,
    )
