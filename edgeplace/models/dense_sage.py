"""A stack of GraphSAGE layers on dense, padded graph batches (PyG ``DenseSAGEConv``), shared by the
TopoRAG context encoder and the GNN-DRL encoder of the edge agent."""

from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.nn import DenseSAGEConv


class DenseSAGE(nn.Module):
    """``num_layers`` GraphSAGE layers (mean aggregation, PyG ``DenseSAGEConv``) with ReLU between them.

    Args:
        in_features: F.
        hidden: d, width of every layer.
        num_layers: >= 1.

    Shapes:
        x (B, N, F), adj (B, N, N) binary with zero rows/columns at padded nodes, mask (B, N) bool
        -> (B, N, d), zero in padded rows.
    """

    def __init__(self, in_features: int, hidden: int, num_layers: int) -> None:
        super().__init__()
        widths = [in_features] + [hidden] * num_layers
        self.convs = nn.ModuleList(DenseSAGEConv(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()

    def forward(self, x: Tensor, adj: Tensor, mask: Tensor) -> Tensor:
        x = x.masked_fill(~mask.unsqueeze(-1), 0.0)  # padded rows may hold anything, even NaN
        for index, conv in enumerate(self.convs):
            if index:
                x = x.relu()
            x = conv(x, adj, mask)  # (B, N, d)
        return x
