"""Observation keys shared by environments (numpy producers) and models (torch consumers).

Every placement scenario exposes a ``gymnasium.spaces.Dict`` observation built from these keys, so
models read observations by key without importing an environment (DESIGN.md layering).

Shapes (per agent, unbatched; N = padded ``max_nodes``, M = number of candidate items):
    REQUEST      (F_req,)   float32  what is being placed now (stage, request fields, budget)
    NODES        (N, F_node) float32 per-node features, zero rows for padding
    NODE_MASK    (N,)       float32  1 for real nodes, 0 for padding
    ITEMS        (M, F_item) float32 per-candidate features (model instances, or the nodes themselves)
    ITEM_NODE    (M,)       int64    host node index of each candidate item
    ACTION_MASK  (M,)       int8     1 where choosing the item is allowed: Gymnasium's mask layout for the
                                     Discrete(M) action (every scenario's ``action_mask`` has the layout
                                     of its action space: :mod:`edgeplace.envs.action_masks`)
"""

from enum import StrEnum


class ObsKey(StrEnum):
    """Keys of the Dict observation of every item-placement scenario."""

    REQUEST = "req"
    NODES = "nodes"
    NODE_MASK = "node_mask"
    ITEMS = "items"
    ITEM_NODE = "item_node"
    ACTION_MASK = "action_mask"
