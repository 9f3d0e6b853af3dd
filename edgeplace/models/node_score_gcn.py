"""GAL-VNE-like node scorer (papers/agentvne.md, g): one GCN stream and a linear head per node."""

from __future__ import annotations

from torch import Tensor, nn

from edgeplace.models.dense_gcn import DenseGCN
from edgeplace.models.layers import reset_submodules


class NodeScoreGCN(nn.Module):
    """score(n) = Linear(GCN(X_s, A_s)[n]); padded nodes score 0.

    Args:
        in_features: F.
        width: d of the GCN layers (spec g: 64).
        gcn_layers: GCN layers (spec g: 2).
        dropout: dropout between the GCN layers.

    Shapes:
        x (B, N, F), adj (N, N) or (B, N, N), mask (B, N) bool -> scores (B, N).
    """

    def __init__(
        self, in_features: int = 6, width: int = 64, gcn_layers: int = 2, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.gcn = DenseGCN(in_features, width, gcn_layers, dropout)
        self.head = nn.Linear(width, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, x: Tensor, adj: Tensor, mask: Tensor) -> Tensor:
        return self.head(self.gcn(x, adj, mask)).squeeze(-1) * mask.to(x.dtype)  # (B, N)
