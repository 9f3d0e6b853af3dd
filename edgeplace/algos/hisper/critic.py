"""HISPER's centralised twin critic (spec f): global-state embeddings in front of
:class:`~edgeplace.models.hybrid_critic.HybridCritic`.

Each twin has its own state encoder: ``ReLU(Linear(R + T, E))`` on every agent's block (dnn-inference:
[request, service token]; weights shared across agents), ``ReLU(Linear(S, E))`` and ``ReLU(Linear(L,
E))`` on the shared parts (dnn-inference: ``servers``, ``links``; none for a zero-width part);
HybridCritic's twin then embeds each agent's action one-hots (shared across agents) and runs the MLP to
P outputs (the view's reward parts, or 1). The twins share nothing.
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
    """Embeds the global state. Shapes: state (B, G) -> (B, A E + n_shared E), n_shared <= 2 the
    non-empty shared parts."""

    def __init__(self, layout: JointStateLayout, embed_dim: int) -> None:
        super().__init__()
        self.layout = layout
        self.agent_embed = nn.Linear(layout.agent_dim, embed_dim)
        self.server_embed = nn.Linear(layout.server_dim, embed_dim) if layout.server_dim else None
        self.link_embed = nn.Linear(layout.link_dim, embed_dim) if layout.link_dim else None
        shared = self.shared_embeddings()
        self.out_dim = (layout.num_agents + len(shared)) * embed_dim
        for layer in (self.agent_embed, *shared):
            nn.init.orthogonal_(layer.weight, gain=HIDDEN_GAIN)
            nn.init.zeros_(layer.bias)

    def shared_embeddings(self) -> list[nn.Linear]:
        """The shared parts' embeddings in state order (the zero-width parts have none)."""
        return [layer for layer in (self.server_embed, self.link_embed) if layer is not None]

    def forward(self, state: Tensor) -> Tensor:
        layout = self.layout
        agents = state[:, : layout.num_agents * layout.agent_dim].unflatten(1, (layout.num_agents, -1))
        shared = state[:, layout.num_agents * layout.agent_dim :].split(
            [layout.server_dim, layout.link_dim], dim=1
        )
        embeds = [
            torch.relu(layer(x))  # (B, E)
            for layer, x in zip(self.shared_embeddings(), [x for x in shared if x.shape[1]], strict=True)
        ]
        return torch.cat([torch.relu(self.agent_embed(agents)).flatten(1), *embeds], dim=-1)  # (B, A E + ..)


class TwinCritic(nn.Module):
    """Twin critics ``Q_j(s, a)`` with P outputs each.

    Args:
        layout: The global state's layout (agents, widths).
        action_sizes: Per-agent sub-action sizes of the action encoding, e.g. (16, 4, 16).
        reward_parts: P (the view's reward parts for the hybrid reward, 1 for the scalar reward).
        hidden: MLP widths of each twin.
        embed_dim: Width of every embedding.

    Shapes:
        state (B, G), joint_action (B, A sum(action_sizes)) -> forward (2, B, P); encode (2, B, D) with
        D = StateEncoder.out_dim; q_from_encoded (encoded (2, B, .), joint_action) -> (2, B, P)
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
