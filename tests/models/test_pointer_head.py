"""PointerHead f(s, n) = v^T tanh(A h + B e_s + C e_n) against a loop over (s, n); RouteHead shapes."""

from __future__ import annotations

import torch

from edgeplace.models.pointer_head import PointerHead
from edgeplace.models.route_head import RouteHead


def test_pointer_scores_match_the_formula_pair_by_pair():
    torch.manual_seed(0)
    head = PointerHead(hidden_dim=6, slot_dim=5, option_dim=4, width=8)
    h, e_s, e_n = torch.randn(2, 6), torch.randn(2, 3, 5), torch.randn(2, 7, 4)
    scores = head(h, e_s, e_n)
    assert scores.shape == (2, 3, 7)
    for b in range(2):
        for s in range(3):
            for n in range(7):
                z = head.a(h[b]) + head.b(e_s[b, s]) + head.c(e_n[b, n])
                torch.testing.assert_close(scores[b, s, n], head.v(z.tanh()).squeeze(-1))


def test_route_head_scores_every_edge_from_h_and_its_features():
    torch.manual_seed(0)
    head = RouteHead(hidden_dim=6, edge_dim=5, patterns=7, width=8)
    h, e_e = torch.randn(2, 6), torch.randn(2, 4, 5)
    logits = head(h, e_e)
    assert logits.shape == (2, 4, 7)
    torch.testing.assert_close(logits[1, 2], head.mlp(torch.cat([h[1], e_e[1, 2]])))
