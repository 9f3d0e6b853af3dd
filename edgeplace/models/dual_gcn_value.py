"""AgentVNE's value network (papers/agentvne.md, d): its own GCN per stream, pooled, then an MLP."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from edgeplace.models.dense_gcn import DenseGCN
from edgeplace.models.graph_pair import GraphPair
from edgeplace.models.layers import mlp, reset_submodules


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean over the real rows (0 when there is none). Shapes: x (B, N, d), mask (B, N) bool -> (B, d)."""
    weights = mask.to(x.dtype)
    return (x * weights.unsqueeze(-1)).sum(dim=1) / weights.sum(dim=1, keepdim=True).clamp(min=1.0)


class DualGCNValue(nn.Module):
    """V = MLP([mean_v GCN_v(workflow), mean_s GCN_s(substrate)]), MLP 2w -> hidden -> 1.

    Args:
        in_features: F of both streams.
        width: w, width of each stream's GCN layers.
        hidden: hidden widths of the MLP (spec d: 128, 64).
        gcn_layers: GCN layers per stream.

    Shapes:
        GraphPair -> values (B,).
    """

    def __init__(
        self, in_features: int = 6, width: int = 64, hidden: Sequence[int] = (128, 64), gcn_layers: int = 2
    ) -> None:
        super().__init__()
        self.gcn_v = DenseGCN(in_features, width, gcn_layers, dropout=0.0)
        self.gcn_s = DenseGCN(in_features, width, gcn_layers, dropout=0.0)
        self.head = mlp(2 * width, hidden, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, graphs: GraphPair) -> Tensor:
        pooled_v = masked_mean(self.gcn_v(graphs.x_v, graphs.adj_v, graphs.vn_mask), graphs.vn_mask)
        pooled_s = masked_mean(self.gcn_s(graphs.x_s, graphs.adj_s, graphs.sn_mask), graphs.sn_mask)
        return self.head(torch.cat([pooled_v, pooled_s], dim=-1)).squeeze(-1)  # (B,)
