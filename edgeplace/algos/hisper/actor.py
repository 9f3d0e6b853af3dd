"""HISPER's per-agent actor (spec f): input embeddings, an MLP trunk and a sub-action head.

Each agent has its own actor (no parameter sharing). Agents whose heads have the same sizes act in
one batched pass (:func:`group_forward`): their weights are stacked along a leading group dimension
and applied with batched matrix products, so acting for E envs x A agents is one forward, and every
agent's gradient still reaches its own parameters.

An actor's inputs are the agent's own input (dnn-inference: ``req``) and the two inputs every agent
observes alike (dnn-inference: ``servers``, ``links``; a view without them gives width 0, and a
zero-width input has no embedding). All agents use the view's padded head sizes (dnn-inference:
``(16, MAX_MODELS, P)``): padded slots (an MOT agent's model slot 3, padded servers) are masked (logit
-1e9, probability exactly 0), which gives the same distribution, log-probabilities and samples as the
native sizes and lets all agents share one group.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from edgeplace.algos.hisper.joint_view import JointStateLayout
from edgeplace.models.autoregressive_head import (
    ActionMode,
    AutoregressiveHead,
    HeadOutput,
    SubActionHead,
    grouped_forward,
    grouped_linear,
)
from edgeplace.models.factorised_head import FactorisedHead

HIDDEN_GAIN = math.sqrt(2.0)


@dataclass(frozen=True)
class ActorSpec:
    """Everything that defines an actor's architecture (saved with checkpoints to rebuild it)."""

    request_dim: int
    """Width of the agent's own input."""
    server_dim: int
    """Width of the first shared input (0: none)."""
    link_dim: int
    """Width of the second shared input (0: none)."""
    sizes: tuple[int, ...]
    """Padded sub-action sizes (dnn-inference: configuration, model, server: (16, MAX_MODELS, P))."""
    embed_dim: int = 32
    hidden: tuple[int, ...] = (256, 256)
    autoregressive: bool = True
    lstm_hidden: int = 128


class Actor(nn.Module):
    """``o -> z``: ReLU(Linear) embeddings of the own input and the shared ones (``request``,
    ``servers``, ``links``; none for a zero-width input), concatenated, an MLP (``hidden``), then the
    head (autoregressive LSTM or factorised) on z.

    Shapes:
        request (B, R), servers (B, S), links (B, L); masks: K bool tensors broadcastable to (B, n_k)
        -> HeadOutput with * = (B,)
    """

    def __init__(self, spec: ActorSpec) -> None:
        super().__init__()
        self.spec = spec
        e = spec.embed_dim
        self.request_embed = nn.Linear(spec.request_dim, e)
        self.server_embed = nn.Linear(spec.server_dim, e) if spec.server_dim else None
        self.link_embed = nn.Linear(spec.link_dim, e) if spec.link_dim else None
        widths = (len(self.embeddings()) * e, *spec.hidden)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.head: SubActionHead = (
            AutoregressiveHead(spec.hidden[-1], spec.sizes, spec.lstm_hidden)
            if spec.autoregressive
            else FactorisedHead(spec.hidden[-1], spec.sizes)
        )
        self.reset_parameters()

    def embeddings(self) -> list[nn.Linear]:
        """The input embeddings in input order (the zero-width inputs have none)."""
        return [
            layer for layer in (self.request_embed, self.server_embed, self.link_embed) if layer is not None
        ]

    def reset_parameters(self) -> None:
        """HARL's init: orthogonal trunk weights with gain sqrt 2, zero biases; the head's own init."""
        for layer in (*self.embeddings(), *self.hidden):
            nn.init.orthogonal_(layer.weight, gain=HIDDEN_GAIN)
            nn.init.zeros_(layer.bias)
        self.head.reset_parameters()

    def trunk_weights(self) -> tuple[Tensor, ...]:
        """Trunk tensors in :func:`trunk_forward`'s order."""
        layers = (*self.embeddings(), *self.hidden)
        return tuple(t for layer in layers for t in (layer.weight, layer.bias))

    def forward(
        self,
        request: Tensor,
        servers: Tensor,
        links: Tensor,
        masks: Sequence[Tensor | None] | None = None,
        *,
        mode: ActionMode = ActionMode.SAMPLE,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> HeadOutput:
        z = trunk_forward(self.trunk_weights(), request, servers, links)  # (B, H)
        return self.head(z, masks, mode=mode, temperature=temperature, generator=generator)

    def evaluate(
        self,
        request: Tensor,
        servers: Tensor,
        links: Tensor,
        actions: Tensor,
        masks: Sequence[Tensor | None] | None = None,
    ) -> HeadOutput:
        """Teacher-forced pass for given actions (B, K) int64 (log-probabilities of stored actions)."""
        z = trunk_forward(self.trunk_weights(), request, servers, links)  # (B, H)
        return self.head.evaluate(z, actions, masks)


def actor_inputs(layout: JointStateLayout, state: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Every agent's actor inputs sliced from global states (see :mod:`~edgeplace.algos.hisper.joint_view`).

    Shapes: state (B, G) -> requests (A, B, R), servers (B, S), links (B, L) (S, L may be 0)
    """
    blocks = state[:, : layout.num_agents * layout.agent_dim].unflatten(1, (layout.num_agents, -1))
    start = layout.num_agents * layout.agent_dim
    servers = state[:, start : start + layout.server_dim]
    return blocks[..., : layout.request_dim].transpose(0, 1), servers, state[:, start + layout.server_dim :]


def trunk_forward(weights: Sequence[Tensor], request: Tensor, servers: Tensor, links: Tensor) -> Tensor:
    """The trunk of one actor (2-d weights) or of G stacked actors (3-d weights, leading G).

    ``servers`` and ``links`` are the same for every agent of a step, so for a group they may be given
    once, (B, F), and are broadcast to the G members. Zero-width inputs are skipped (they have no
    embedding): the first weights embed the non-empty inputs in order.

    Shapes:
        one actor: request (B, R), servers (B, S), links (B, L) -> z (B, H);
        a group: request (G, B, R), servers (B, S) or (G, B, S), links likewise -> z (G, B, H)
    """
    grouped = weights[0].dim() == 3
    if grouped:
        g = weights[0].shape[0]
        servers = servers.expand(g, *servers.shape[-2:]) if servers.dim() == 2 else servers
        links = links.expand(g, *links.shape[-2:]) if links.dim() == 2 else links
    inputs = [x for x in (request, servers, links) if x.shape[-1]]
    embeds = [torch.relu(grouped_linear(x, weights[2 * i], weights[2 * i + 1])) for i, x in enumerate(inputs)]
    h = torch.cat(embeds, dim=-1)  # (*, n_inputs E)
    for i in range(len(inputs), len(weights) // 2):
        h = torch.relu(grouped_linear(h, weights[2 * i], weights[2 * i + 1]))  # (*, hidden_i)
    return h


def group_forward(
    actors: Sequence[Actor],
    request: Tensor,
    servers: Tensor,
    links: Tensor,
    masks: Sequence[Tensor | None] | None = None,
    *,
    mode: ActionMode = ActionMode.SAMPLE,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> HeadOutput:
    """G actors (same spec, own weights) in one batched pass.

    Shapes:
        request (G, B, R), servers (B, S), links (B, L); masks broadcastable to (G, B, n_k)
        -> HeadOutput with * = (G, B)
    """
    if request.dim() != 3 or request.shape[0] != len(actors):
        raise ValueError(f"request must be (G={len(actors)}, B, R), got {tuple(request.shape)}")
    stacked = tuple(torch.stack(parts) for parts in zip(*(a.trunk_weights() for a in actors), strict=True))
    z = trunk_forward(stacked, request, servers, links)  # (G, B, H)
    return grouped_forward(
        [a.head for a in actors], z, masks, mode=mode, temperature=temperature, generator=generator
    )
