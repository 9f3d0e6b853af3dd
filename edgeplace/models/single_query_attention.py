"""Multi-head attention of one query token over a set of tokens, without materialising keys or values."""

import math

import torch
from torch import Tensor, nn


class SingleQueryAttention(nn.Module):
    """Exactly ``nn.MultiheadAttention`` for a single query, at O(heads * d) per token instead of O(d^2).

    Per head h (head width e = d / heads): ``score_n = (W_k,h t_n) . (W_q,h q) / sqrt(e)`` is computed
    as ``t_n . (W_k,h^T W_q,h q)``, and ``sum_n a_n W_v,h t_n`` as ``W_v,h (sum_n a_n t_n)``: the key
    and value projections act on one vector per head, not on every token. A key bias would add the
    same constant to every score of a head (it cancels in the softmax), so there is none; the value
    bias is added after pooling (the weights sum to 1).

    Args:
        d_model: Token width d.
        num_heads: Attention heads; must divide ``d_model``.
        dropout: Dropout on the attention weights.

    Shapes:
        query (B, d), tokens (B, N, d), key_mask (B, N) bool with at least one True per row -> (B, d)
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"num_heads must divide d_model, got d_model={d_model}, num_heads={num_heads}")
        self.num_heads = num_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_weight = nn.Parameter(torch.empty(d_model, d_model))
        self.v_weight = nn.Parameter(torch.empty(d_model, d_model))
        self.v_bias = nn.Parameter(torch.empty(d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for weight in (self.q_proj.weight, self.k_weight, self.v_weight):
            nn.init.xavier_uniform_(weight)
        self.out_proj.reset_parameters()
        for bias in (self.q_proj.bias, self.v_bias, self.out_proj.bias):
            nn.init.zeros_(bias)

    def forward(self, query: Tensor, tokens: Tensor, key_mask: Tensor) -> Tensor:
        batch, d_model = query.shape
        head_dim = d_model // self.num_heads
        q = self.q_proj(query).view(batch, self.num_heads, head_dim)  # (B, heads, e)
        k_weight = self.k_weight.view(self.num_heads, head_dim, d_model)  # (heads, e, d)
        probe = torch.einsum("bhe,hed->bhd", q, k_weight) / math.sqrt(head_dim)  # (B, heads, d)
        scores = torch.bmm(probe, tokens.transpose(1, 2))  # (B, heads, N)
        scores = scores.masked_fill(~key_mask.unsqueeze(1), float("-inf"))
        weights = self.dropout(torch.softmax(scores, dim=-1))  # (B, heads, N)
        pooled = torch.bmm(weights, tokens)  # (B, heads, d)
        v_weight = self.v_weight.view(self.num_heads, head_dim, d_model)  # (heads, e, d)
        values = torch.einsum("bhd,hed->bhe", pooled, v_weight).reshape(batch, d_model)  # (B, d)
        return self.out_proj(values + self.v_bias)
