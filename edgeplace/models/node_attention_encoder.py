"""Node tokens plus one cross-attention from the request token (VAMAPPO spec e2, size-agnostic)."""

import torch
from torch import Tensor, nn

from edgeplace.models.layers import mlp, reset_submodules
from edgeplace.models.node_encoding import NodeEncoding
from edgeplace.models.single_query_attention import SingleQueryAttention


def fill_empty_rows(mask: Tensor, fallback: Tensor) -> Tensor:
    """Replace every all-false row of ``mask`` by the same row of ``fallback``.

    Attention over a row whose keys are all masked gives NaN; this keeps every row attendable.

    Shapes:
        mask, fallback: (B, N) bool -> (B, N) bool
    """
    return torch.where(mask.any(dim=-1, keepdim=True), mask, fallback)


class NodeAttentionEncoder(nn.Module):
    """Encodes padded node features and a request into node tokens, a context and a request token.

    ``h = MLP(nodes)`` per node, then ``self_attention_layers`` Transformer encoder layers over the
    valid nodes (0 by default: on 2 CPU cores self-attention costs 15-20x the cross-attention in
    PPO's learner; use it on GPUs), ``q = MLP(request)``, and one cross-attention in which ``q``
    attends to the nodes flagged by ``key_mask`` (VAMAPPO's "filter irrelevant nodes"). Rows whose
    ``key_mask`` is empty attend to all valid nodes instead. All weights are per node, so one
    instance runs on any padded node count N.

    Args:
        node_dim: Node feature width F_node.
        request_dim: Request feature width F_req.
        d_model: Token width d.
        num_heads: Attention heads; must divide ``d_model``.
        self_attention_layers: Transformer encoder layers over the nodes (feed-forward width 2d).
        dropout: Dropout inside the attention layers.

    Shapes:
        nodes (B, N, F_node), node_mask (B, N) bool, request (B, F_req), key_mask (B, N) bool
        -> NodeEncoding(nodes (B, N, d), context (B, d), request (B, d))
    """

    def __init__(
        self,
        node_dim: int,
        request_dim: int,
        d_model: int = 64,
        num_heads: int = 4,
        self_attention_layers: int = 0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.node_mlp = mlp(node_dim, [d_model], d_model)
        self.request_mlp = mlp(request_dim, [d_model], d_model)
        self.self_attention = (
            nn.TransformerEncoder(
                nn.TransformerEncoderLayer(
                    d_model, num_heads, dim_feedforward=2 * d_model, dropout=dropout, batch_first=True
                ),
                num_layers=self_attention_layers,
                enable_nested_tensor=False,
            )
            if self_attention_layers > 0
            else None
        )
        self.cross_attention = SingleQueryAttention(d_model, num_heads, dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, nodes: Tensor, node_mask: Tensor, request: Tensor, key_mask: Tensor) -> NodeEncoding:
        valid = fill_empty_rows(node_mask, torch.ones_like(node_mask))  # (B, N); all-padding rows: all
        keys = fill_empty_rows(key_mask & valid, valid)  # (B, N)
        h = self.node_mlp(nodes)  # (B, N, d)
        if self.self_attention is not None:
            h = self.self_attention(h, src_key_padding_mask=~valid)  # (B, N, d)
        q = self.request_mlp(request)  # (B, d)
        context = self.cross_attention(q, h, keys)  # (B, d)
        return NodeEncoding(nodes=h, context=context, request=q)
