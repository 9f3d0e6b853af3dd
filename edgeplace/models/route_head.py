"""Route logits per DAG edge (papers/llm-mappo.md, e, "Heads"): ``MLP[h ‖ e_e] -> patterns``."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RouteHead(nn.Module):
    """One MLP scores the split patterns of every edge from the agent's hidden state and the edge's
    features.

    Args:
        hidden_dim: width of h.
        edge_dim: width of e_e.
        patterns: number of split patterns (7).
        width: the MLP's hidden width.

    Shapes:
        h (B, H), e_e (B, E, De) -> logits (B, E, patterns) (unmasked).
    """

    def __init__(self, hidden_dim: int, edge_dim: int, patterns: int = 7, width: int = 64) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(hidden_dim + edge_dim, width), nn.Tanh(), nn.Linear(width, patterns)
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in self.mlp:
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()

    def forward(self, h: Tensor, e_e: Tensor) -> Tensor:
        h_rows = h.unsqueeze(1).expand(-1, e_e.shape[1], -1)  # (B, E, H)
        return self.mlp(torch.cat([h_rows, e_e], dim=-1))
