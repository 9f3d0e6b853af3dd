"""HISPER's centralised twin critic (spec f): global-state embeddings in front of
:class:`~edgeplace.models.hybrid_critic.HybridCritic`.

Each twin has its own state encoder: ``ReLU(Linear(R + T, E))`` on every agent's [request, service
token] (weights shared across agents), ``ReLU(Linear(S, E))`` on ``servers`` and ``ReLU(Linear(L, E))``
on ``links``; HybridCritic's twin then embeds each agent's action one-hots (shared across agents) and
runs the MLP to P outputs (3 reward parts, or 1). The twins share nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from edgeplace.algos.hisper.joint_view import JointStateLayout
from edgeplace.models.hybrid_critic import NUM_TWINS, HybridCritic

HIDDEN_GAIN = math.sqrt(2.0)


class StateEncoder(nn.Module):
    """Embeds the global state. Shapes: state (B, G) -> (B, A E + 2 E)."""

    def __init__(self, layout: JointStateLayout, embed_dim: int) -> None:
        super().__init__()
        self.layout = layout
        self.agent_embed = nn.Linear(layout.agent_dim, embed_dim)
        self.server_embed = nn.Linear(layout.server_dim, embed_dim)
        self.link_embed = nn.Linear(layout.link_dim, embed_dim)
        self.out_dim = (layout.num_agents + 2) * embed_dim
        for layer in (self.agent_embed, self.server_embed, self.link_embed):
            nn.init.orthogonal_(layer.weight, gain=HIDDEN_GAIN)
            nn.init.zeros_(layer.bias)

    def forward(self, state: Tensor) -> Tensor:
        layout = self.layout
        agents = state[:, : layout.num_agents * layout.agent_dim].unflatten(1, (layout.num_agents, -1))
        start = layout.num_agents * layout.agent_dim
        parts = [
            torch.relu(self.agent_embed(agents)).flatten(1),  # (B, A E)
            torch.relu(self.server_embed(state[:, start : start + layout.server_dim])),  # (B, E)
            torch.relu(self.link_embed(state[:, start + layout.server_dim :])),  # (B, E)
        ]
        return torch.cat(parts, dim=-1)


class TwinCritic(nn.Module):
    """Twin critics ``Q_j(s, a)`` with P outputs each.

    Args:
        layout: The global state's layout (agents, widths).
        action_sizes: Per-agent sub-action sizes of the action encoding, e.g. (16, 4, 16).
        reward_parts: P (3 for the hybrid reward, 1 for the scalar reward).
        hidden: MLP widths of each twin.
        embed_dim: Width of every embedding.

    Shapes:
        state (B, G), joint_action (B, A sum(action_sizes)) -> forward (2, B, P); encode (2, B, A E + 2 E);
        q_from_encoded (encoded (2, B, .), joint_action) -> (2, B, P)
    """

    def __init__(
        self,
        layout: JointStateLayout,
        action_sizes: Sequence[int],
        reward_parts: int,
        hidden: Sequence[int],
        embed_dim: int,
    ) -> None:
        super().__init__()
        self.layout = layout
        self.encoders = nn.ModuleList(StateEncoder(layout, embed_dim) for _ in range(NUM_TWINS))
        self.q = HybridCritic(
            self.encoders[0].out_dim, layout.num_agents, action_sizes, reward_parts, hidden, embed_dim
        )

    def encode(self, state: Tensor) -> Tensor:
        """Each twin's state embedding, stacked: the part of the input that does not depend on actions."""
        if state.dim() != 2 or state.shape[1] != self.layout.state_dim:
            raise ValueError(f"state must be (B, {self.layout.state_dim}), got {tuple(state.shape)}")
        return torch.stack([encoder(state) for encoder in self.encoders])

    def q_from_encoded(self, encoded: Tensor, joint_action: Tensor) -> Tensor:
        """Both twins' Q from :meth:`encode`'s output (reused across the sequential actor steps)."""
        if joint_action.shape != (encoded.shape[1], self.q.action_dim):
            raise ValueError(
                f"joint_action must be (B={encoded.shape[1]}, {self.q.action_dim}), got "
                f"{tuple(joint_action.shape)}"
            )
        return torch.stack([twin(encoded[j], joint_action) for j, twin in enumerate(self.q.twins)])

    def forward(self, state: Tensor, joint_action: Tensor) -> Tensor:
        return self.q_from_encoded(self.encode(state), joint_action)
