"""A stack of Kipf GCN layers on dense, padded graph batches (PyG ``DenseGCNConv``)."""

from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.nn import DenseGCNConv


class DenseGCN(nn.Module):
    """``num_layers`` GCN layers (self-loops, symmetric normalisation), ReLU after each, dropout between.

    Padded nodes must have no links to real nodes (zero rows and columns of ``adj``); their outputs
    are zeroed after every layer.

    Args:
        in_features: F, input width.
        hidden: d, width of every layer.
        num_layers: L >= 1.
        dropout: dropout between layers (train mode only).

    Shapes:
        x (B, N, F); adj (B, N, N), or (N, N) / (1, N, N) shared by the batch (broadcast, not copied);
        mask (B, N) bool -> (B, N, d), zero in padded rows.
    """

    def __init__(self, in_features: int, hidden: int, num_layers: int = 2, dropout: float = 0.1) -> None:
        super().__init__()
        if num_layers < 1 or hidden < 1 or in_features < 1:
            raise ValueError(
                f"DenseGCN: need in_features, hidden, num_layers >= 1, got {in_features}, {hidden}, "
                f"{num_layers}"
            )
        widths = [in_features] + [hidden] * num_layers
        self.convs = nn.ModuleList(DenseGCNConv(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    def forward(self, x: Tensor, adj: Tensor, mask: Tensor) -> Tensor:
        keep = mask.unsqueeze(-1).to(x.dtype)  # (B, N, 1)
        for index, conv in enumerate(self.convs):
            if index:
                x = self.dropout(x)
            # no ``mask=`` argument: DenseGCNConv reads B from adj, which may be shared (1, N, N)
            x = conv(x, adj).relu() * keep  # (B, N, d)
        return x
