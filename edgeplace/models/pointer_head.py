"""Pointer-style placement logits (papers/llm-mappo.md, e, "Heads"): ``f(s, n) = v^T tanh(A h + B e_s +
C e_n)`` for every slot s and option n at once."""

from __future__ import annotations

from torch import Tensor, nn


class PointerHead(nn.Module):
    """Additive-attention scores of every (slot, option) pair given the agent's hidden state h.

    Args:
        hidden_dim: width of h.
        slot_dim: width of e_s.
        option_dim: width of e_n.
        width: the attention width (paper 64).

    Shapes:
        h (B, H), e_s (B, S, Ds), e_n (B, O, Dn) -> f (B, S, O) (unmasked).
    """

    def __init__(self, hidden_dim: int, slot_dim: int, option_dim: int, width: int = 64) -> None:
        super().__init__()
        self.a = nn.Linear(hidden_dim, width)
        self.b = nn.Linear(slot_dim, width, bias=False)
        self.c = nn.Linear(option_dim, width, bias=False)
        self.v = nn.Linear(width, 1, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in (self.a, self.b, self.c, self.v):
            layer.reset_parameters()

    def forward(self, h: Tensor, e_s: Tensor, e_n: Tensor) -> Tensor:
        query = self.a(h)[:, None, None, :] + self.b(e_s)[:, :, None, :]  # (B, S, 1, W)
        return self.v((query + self.c(e_n)[:, None, :, :]).tanh()).squeeze(-1)  # (B, S, O)
