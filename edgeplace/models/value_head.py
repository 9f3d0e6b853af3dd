"""State value from the critic features ``z = [context, request, masked mean-pool of nodes]``."""

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from edgeplace.models.layers import mlp, reset_submodules
from edgeplace.models.node_encoding import NodeEncoding


def critic_features(encoding: NodeEncoding, node_mask: Tensor) -> Tensor:
    """The critic's input ``z`` (VAMAPPO e2), also the module's embedding for reuse and uncertainty.

    Shapes:
        encoding NodeEncoding(nodes (B, N, d), context (B, d), request (B, d)), node_mask (B, N) bool
        -> z (B, 3d)
    """
    weights = node_mask.to(encoding.nodes.dtype)  # (B, N)
    weights = weights / weights.sum(dim=-1, keepdim=True).clamp(min=1.0)
    pooled = torch.bmm(weights.unsqueeze(1), encoding.nodes).squeeze(1)  # (B, d)
    return torch.cat([encoding.context, encoding.request, pooled], dim=-1)


class ValueHead(nn.Module):
    """``V = MLP(z)`` with ``z`` the critic features (e.g. from :func:`critic_features`, 3d wide).

    Args:
        in_features: Width F of z.
        hidden: Hidden widths of the MLP.
        dropout: Dropout after each hidden layer, active only in train mode (VAMAPPO's critic: 0.1);
            values used for advantages come from eval mode.

    Shapes:
        z (B, F) -> values (B,)
    """

    def __init__(self, in_features: int, hidden: Sequence[int] = (256, 128), dropout: float = 0.0) -> None:
        super().__init__()
        self.mlp = mlp(in_features, hidden, 1, dropout=dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_submodules(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.mlp(z).squeeze(-1)  # (B,)
