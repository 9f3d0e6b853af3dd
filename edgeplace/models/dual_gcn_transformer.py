"""Dual-stream GCN -> Transformer encoder of AgentVNE (papers/agentvne.md, d, Eq.15-16)."""

from __future__ import annotations

from torch import Tensor, nn

from edgeplace.models.dense_gcn import DenseGCN
from edgeplace.models.graph_pair import GraphPair
from edgeplace.models.layers import reset_submodules


class DualGCNTransformer(nn.Module):
    """Per stream (workflow, substrate; separate weights): ``gcn_layers`` dense GCN layers F -> d -> d
    (ReLU, dropout between), then one post-LN Transformer encoder layer (``num_heads`` heads,
    feed-forward ``ff_multiplier * d``, dropout) with key-padding masks and no positional encoding.

    A graph without any real node (an empty request) attends to its padding instead of producing NaN;
    its output is zero like every padded row.

    Args:
        in_features: F (6 in spec d).
        d_model: d.
        num_heads, ff_multiplier, dropout, gcn_layers: see :class:`SimilarityConfig`.

    Shapes:
        GraphPair (see :class:`GraphPair`) -> (H_v (B, Nv, d), H_s (B, Ns, d)), zero in padded rows.
    """

    def __init__(
        self,
        in_features: int,
        d_model: int,
        num_heads: int = 2,
        ff_multiplier: int = 4,
        dropout: float = 0.1,
        gcn_layers: int = 2,
    ) -> None:
        super().__init__()
        self.gcn_v = DenseGCN(in_features, d_model, gcn_layers, dropout)
        self.gcn_s = DenseGCN(in_features, d_model, gcn_layers, dropout)
        self.encoder_v = _encoder(d_model, num_heads, ff_multiplier, dropout)
        self.encoder_s = _encoder(d_model, num_heads, ff_multiplier, dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, graphs: GraphPair) -> tuple[Tensor, Tensor]:
        u_v = self.gcn_v(graphs.x_v, graphs.adj_v, graphs.vn_mask)  # (B, Nv, d)
        u_s = self.gcn_s(graphs.x_s, graphs.adj_s, graphs.sn_mask)  # (B, Ns, d)
        return _attend(self.encoder_v, u_v, graphs.vn_mask), _attend(self.encoder_s, u_s, graphs.sn_mask)


def _encoder(d_model: int, num_heads: int, ff_multiplier: int, dropout: float) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(
        d_model, num_heads, ff_multiplier * d_model, dropout, batch_first=True, norm_first=False
    )
    return nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)


def _attend(encoder: nn.TransformerEncoder, tokens: Tensor, mask: Tensor) -> Tensor:
    """Self-attention over the real tokens. Shapes: tokens (B, N, d), mask (B, N) bool -> (B, N, d)."""
    empty = ~mask.any(dim=1, keepdim=True)  # (B, 1): no real token; let it attend to its padding
    padding = ~(mask | empty)  # (B, N) True = ignored key
    return encoder(tokens, src_key_padding_mask=padding) * mask.unsqueeze(-1).to(tokens.dtype)
