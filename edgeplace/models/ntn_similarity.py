"""Column-wise neural tensor network with sigmoid and row-wise L2 normalisation (papers/agentvne.md, d,
Eq.17-19)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

#: epsilon of Eq.19's row normalisation.
ROW_NORM_EPS = 1e-8


class ColumnwiseNTN(nn.Module):
    """``P[b, i, j] = S[b, i, j] / (||S[b, i, valid]||_2 + 1e-8)`` with
    ``S = sigmoid(H_s[b, j]^T W[j] H_v[b, i])`` on valid columns and 0 on padded ones; one d x d slice
    W[j] per substrate node (no additive term); padded rows of P are 0.

    W[j] is initialised from N(0, 1/d^2) (std 1/d). The slices are tied to node indices, so a network
    fits one ``max_nodes``.

    Args:
        max_nodes: Ns_max, the number of slices.
        d_model: d.

    Shapes:
        h_v (B, Nv, d), h_s (B, Ns_max, d), vn_mask (B, Nv) bool, sn_mask (B, Ns_max) bool
        -> P (B, Nv, Ns_max).
    """

    def __init__(self, max_nodes: int, d_model: int) -> None:
        super().__init__()
        self.max_nodes, self.d_model = max_nodes, d_model
        self.weight = nn.Parameter(torch.empty(max_nodes, d_model, d_model))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, mean=0.0, std=1.0 / self.d_model)

    def scores(self, h_v: Tensor, h_s: Tensor) -> Tensor:
        """Z of Eq.17. Shapes: h_v (B, Nv, d), h_s (B, Ns_max, d) -> (B, Nv, Ns_max)."""
        if h_s.shape[1] != self.max_nodes:
            raise ValueError(f"ColumnwiseNTN: expected {self.max_nodes} substrate rows, got {h_s.shape[1]}")
        t = torch.einsum("bjd,jde->bje", h_s, self.weight)  # (B, Ns, d): H_s[b, j]^T W[j]
        return torch.einsum("bje,bie->bij", t, h_v)  # (B, Nv, Ns)

    def log_scores(self, h_v: Tensor, h_s: Tensor) -> Tensor:
        """log sigmoid(Z), finite where the sigmoid underflows. Shapes as :meth:`scores`."""
        return F.logsigmoid(self.scores(h_v, h_s))

    def forward(self, h_v: Tensor, h_s: Tensor, vn_mask: Tensor, sn_mask: Tensor) -> Tensor:
        s = torch.sigmoid(self.scores(h_v, h_s)) * sn_mask.unsqueeze(1).to(h_v.dtype)  # (B, Nv, Ns)
        norm = s.norm(dim=-1, keepdim=True)  # (B, Nv, 1), over valid columns (padded ones are 0)
        return s / (norm + ROW_NORM_EPS) * vn_mask.unsqueeze(-1).to(h_v.dtype)
