"""Masked per-item logits: each candidate is scored from its host node's token, the context and itself."""

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from edgeplace.models.layers import mlp, reset_submodules
from edgeplace.models.node_encoding import NodeEncoding

MASKED_LOGIT = -1e9
"""Logit of a forbidden item: finite (no NaN in softmax, entropy or KL), yet probability exactly 0."""

OUTPUT_INIT_GAIN = 0.01
"""Orthogonal gain of the output layer, so the initial policy is near-uniform over allowed items."""


class ItemScoringHead(nn.Module):
    """``logit_m = MLP([h_{node(m)}, context, request, item_m])``, forbidden items set to MASKED_LOGIT.

    Only allowed items are scored (forbidden ones cost nothing), and the first Linear of the MLP is
    applied blockwise, which is exactly the Linear of the concatenation but cheaper: the node and
    context/request blocks run once per node (N) instead of once per item (M >> N).

    Args:
        d_model: Token width d of the encoding.
        item_dim: Item feature width F_item.
        hidden: Hidden widths of the scoring MLP (at least one).

    Shapes:
        encoding NodeEncoding(nodes (B, N, d), context (B, d), request (B, d)), items (B, M, F_item),
        item_node (B, M) int64 in [0, N), action_mask (B, M) bool -> logits (B, M)
    """

    def __init__(self, d_model: int, item_dim: int, hidden: Sequence[int] = (64, 32)) -> None:
        super().__init__()
        if not hidden:
            raise ValueError(f"ItemScoringHead needs at least one hidden layer, got hidden={hidden!r}")
        self.node_proj = nn.Linear(d_model, hidden[0], bias=False)
        self.state_proj = nn.Linear(2 * d_model, hidden[0])
        # Stored (F_item, H), not as a Linear's (H, F_item): its gradient items^T @ grad is then a
        # wide matmul, ~7x faster on CPU than the tall-skinny grad^T @ items over K item rows.
        self.item_weight = nn.Parameter(torch.empty(item_dim, hidden[0]))
        # No output bias: a logit shift common to all items cancels in the softmax.
        self.tail = nn.Sequential(
            nn.ReLU(), *mlp(hidden[0], hidden[1:]), nn.Linear(hidden[-1], 1, bias=False)
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_submodules(self)
        nn.init.kaiming_uniform_(self.item_weight.T, a=math.sqrt(5))  # nn.Linear's default init
        nn.init.orthogonal_(self.tail[-1].weight, gain=OUTPUT_INIT_GAIN)

    def forward(
        self, encoding: NodeEncoding, items: Tensor, item_node: Tensor, action_mask: Tensor
    ) -> Tensor:
        batch, num_nodes, _ = encoding.nodes.shape
        state = torch.cat([encoding.context, encoding.request], dim=-1)  # (B, 2d)
        node_part = self.node_proj(encoding.nodes) + self.state_proj(state).unsqueeze(1)  # (B, N, H)
        allowed = action_mask.flatten().nonzero().squeeze(1)  # (K,) flat (b, m) of allowed items only
        host_rows = item_node.flatten()[allowed] + num_nodes * (allowed // item_node.shape[1])  # (K,)
        host_part = node_part.reshape(batch * num_nodes, -1).index_select(0, host_rows)  # (K, H)
        allowed_items = items.flatten(0, 1).index_select(0, allowed)  # (K, F_item)
        x = torch.addmm(host_part, allowed_items, self.item_weight)  # (K, H)
        scores = self.tail(x).squeeze(1)  # (K,)
        logits = torch.full_like(item_node, MASKED_LOGIT, dtype=scores.dtype).flatten()  # (B*M,)
        return logits.scatter(0, allowed, scores).view_as(item_node)  # (B, M)
