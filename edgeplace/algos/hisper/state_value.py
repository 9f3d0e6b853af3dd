"""HAPPO's centralised state-value critic V(s) (spec g): HISPER's critic trunk with one output."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from edgeplace.algos.hisper.critic import StateEncoder
from edgeplace.algos.hisper.joint_view import JointStateLayout
from edgeplace.models.layers import mlp

HIDDEN_GAIN = math.sqrt(2.0)


class StateValue(nn.Module):
    """``V(s) = MLP(StateEncoder(s))`` with one output. Shapes: state (B, G) -> (B,)."""

    def __init__(self, layout: JointStateLayout, hidden: Sequence[int], embed_dim: int) -> None:
        super().__init__()
        self.encoder = StateEncoder(layout, embed_dim)
        self.mlp = mlp(self.encoder.out_dim, hidden, 1)
        linears = [m for m in self.mlp if isinstance(m, nn.Linear)]
        for linear in linears:  # HARL's init: gain sqrt 2 on hidden layers, 1 on the value layer
            nn.init.orthogonal_(linear.weight, gain=1.0 if linear is linears[-1] else HIDDEN_GAIN)
            nn.init.zeros_(linear.bias)

    def forward(self, state: Tensor) -> Tensor:
        return self.mlp(self.encoder(state)).squeeze(-1)
