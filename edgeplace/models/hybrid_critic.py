"""Twin Q critics with one output per reward part (HISPER f, hybrid reward architecture), the joint
action encoding they read, and their target copies.
"""

import copy
import math
from collections.abc import Sequence
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from edgeplace.models.layers import mlp

HIDDEN_INIT_GAIN = math.sqrt(2.0)
"""Orthogonal gain of the hidden layers (HARL's init for ReLU layers)."""
Q_INIT_GAIN = 1.0
"""Orthogonal gain of the Q output layer."""
NUM_TWINS = 2

ModuleT = TypeVar("ModuleT", bound=nn.Module)


def sub_action_encoding(parts: Sequence[Tensor], sizes: Sequence[int]) -> Tensor:
    """One agent's action encoding: its per-head one-hots (hard, straight-through or probabilities),
    each zero-padded to the critic's size for that head (e.g. an MOT model head of 3 padded to 4).

    Shapes:
        parts: K tensors (*, n_k) with n_k <= sizes[k] -> (*, sum(sizes))
    """
    if len(parts) != len(sizes):
        raise ValueError(f"parts must have one tensor per sub-action ({len(sizes)}), got {len(parts)}")
    for k, (part, size) in enumerate(zip(parts, sizes, strict=True)):
        if part.shape[-1] > size:
            raise ValueError(f"parts[{k}] has {part.shape[-1]} slots, more than sizes[{k}] = {size}")
    padded = [F.pad(part, (0, size - part.shape[-1])) for part, size in zip(parts, sizes, strict=True)]
    return torch.cat(padded, dim=-1)


def joint_action_encoding(actions: Tensor, sizes: Sequence[int]) -> Tensor:
    """The critic's action input: every agent's sub-action one-hots, concatenated in agent order.

    Integer ``actions`` (B, A, K) are one-hot encoded per sub-action (sub-action k in [0, sizes[k])).
    Float ``actions`` (B, A, sum(sizes)) are taken as per-agent encodings already (soft probabilities or
    straight-through one-hots from :func:`sub_action_encoding`), so gradients pass through unchanged.

    Shapes:
        actions (B, A, K) int or (B, A, sum(sizes)) float -> (B, A * sum(sizes))
    """
    width = sum(sizes)
    if actions.dim() != 3:
        raise ValueError(
            f"actions must be (B, agents, K) or (B, agents, {width}), got {tuple(actions.shape)}"
        )
    if actions.is_floating_point():
        if actions.shape[-1] != width:
            raise ValueError(f"soft actions must be (B, agents, {width}), got {tuple(actions.shape)}")
        return actions.flatten(1)
    if actions.shape[-1] != len(sizes):
        raise ValueError(f"actions must be (B, agents, {len(sizes)}), got {tuple(actions.shape)}")
    size_tensor = torch.tensor(sizes, device=actions.device)
    if bool(((actions < 0) | (actions >= size_tensor)).any()):
        raise ValueError(f"actions out of range: sub-action k must lie in [0, {tuple(sizes)}[k])")
    offsets = F.pad(size_tensor.cumsum(0)[:-1], (1, 0))  # (K,) first slot of each sub-action
    encoding = torch.zeros(*actions.shape[:2], width, device=actions.device)  # (B, A, sum(sizes))
    return encoding.scatter_(-1, actions.long() + offsets, 1.0).flatten(1)


class _QNetwork(nn.Module):
    """One twin: ``Q(s, a) = MLP([s, relu(E a_1), ..., relu(E a_A)])``, E shared across agents (or the raw
    encoding when ``action_embed_dim`` is None). Shapes: state (B, S), joint_action (B, A*W) -> (B, P).
    """

    def __init__(
        self,
        state_dim: int,
        num_agents: int,
        action_width: int,
        reward_parts: int,
        hidden: Sequence[int],
        action_embed_dim: int | None,
    ) -> None:
        super().__init__()
        self.num_agents, self.action_width = num_agents, action_width
        self.action_embed = None if action_embed_dim is None else nn.Linear(action_width, action_embed_dim)
        action_features = num_agents * (action_width if action_embed_dim is None else action_embed_dim)
        self.mlp = mlp(state_dim + action_features, hidden, reward_parts)

    def forward(self, state: Tensor, joint_action: Tensor) -> Tensor:
        actions = joint_action
        if self.action_embed is not None:
            per_agent = joint_action.view(-1, self.num_agents, self.action_width)  # (B, A, W)
            actions = torch.relu(self.action_embed(per_agent)).flatten(1)  # (B, A*E)
        return self.mlp(torch.cat([state, actions], dim=-1))  # (B, P)


class HybridCritic(nn.Module):
    """Twin critics ``Q_j(s, a)``, j = 1, 2, with one output per reward part (HISPER: accuracy, delay,
    cost; ``reward_parts=1`` for HASAC and the ``noHRA`` ablation). The twins share nothing; each is an
    action embedding shared across agents followed by an MLP. The state enters as given: a scenario's
    per-entity state embedding, if any, is the caller's job.

    Args:
        state_dim: Width S of the global state.
        num_agents: Agents A whose actions form the joint action.
        action_sizes: The per-agent sub-action sizes of the encoding (e.g. (16, 4, 16): model head padded
            to the largest model set), see :func:`joint_action_encoding`.
        reward_parts: Outputs P per critic.
        hidden: Hidden widths of each twin's MLP (paper: 512-512-256-256-128).
        action_embed_dim: Width of the per-agent action embedding; None feeds the one-hots directly.

    Shapes:
        state (B, S), joint_action (B, A * sum(action_sizes)) -> forward (2, B, P) (``q[j]`` is twin j),
        min_q (B, P)
    """

    def __init__(
        self,
        state_dim: int,
        num_agents: int,
        action_sizes: Sequence[int],
        reward_parts: int = 3,
        hidden: Sequence[int] = (512, 512, 256, 256, 128),
        action_embed_dim: int | None = 32,
    ) -> None:
        super().__init__()
        for name, value in (
            ("state_dim", state_dim),
            ("num_agents", num_agents),
            ("reward_parts", reward_parts),
        ):
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if not action_sizes or any(size <= 0 for size in action_sizes):
            raise ValueError(f"action_sizes must be non-empty positive sizes, got {action_sizes!r}")
        if any(width <= 0 for width in hidden):
            raise ValueError(f"hidden must be positive widths, got {hidden!r}")
        if action_embed_dim is not None and action_embed_dim <= 0:
            raise ValueError(f"action_embed_dim must be positive or None, got {action_embed_dim}")
        self.state_dim, self.num_agents = state_dim, num_agents
        self.action_sizes = tuple(action_sizes)
        self.action_dim = num_agents * sum(self.action_sizes)
        self.twins = nn.ModuleList(
            _QNetwork(state_dim, num_agents, sum(self.action_sizes), reward_parts, hidden, action_embed_dim)
            for _ in range(NUM_TWINS)
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """HARL's init: orthogonal weights (gain sqrt 2 hidden, 1 on the Q layer), zero biases."""
        for twin in self.twins:
            linears = [module for module in twin.modules() if isinstance(module, nn.Linear)]
            for linear in linears:
                gain = Q_INIT_GAIN if linear is linears[-1] else HIDDEN_INIT_GAIN
                nn.init.orthogonal_(linear.weight, gain=gain)
                nn.init.zeros_(linear.bias)

    def forward(self, state: Tensor, joint_action: Tensor) -> Tensor:
        if state.dim() != 2 or state.shape[1] != self.state_dim:
            raise ValueError(f"state must be (B, {self.state_dim}), got {tuple(state.shape)}")
        if joint_action.shape != (state.shape[0], self.action_dim):
            raise ValueError(
                f"joint_action must be (B={state.shape[0]}, {self.action_dim}), "
                f"got {tuple(joint_action.shape)}"
            )
        return torch.stack([twin(state, joint_action) for twin in self.twins])  # (2, B, P)

    def min_q(self, state: Tensor, joint_action: Tensor) -> Tensor:
        """``min_j Q_j`` per reward part (B, P): the clipped double-Q value."""
        return self(state, joint_action).amin(dim=0)


def make_target(module: ModuleT) -> ModuleT:
    """A frozen deep copy of ``module`` (``requires_grad`` False everywhere) to track with
    :func:`polyak_update`. It keeps the source's train/eval mode.
    """
    return copy.deepcopy(module).requires_grad_(False)


@torch.no_grad()
def polyak_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """``target <- (1 - tau) * target + tau * source`` for every parameter, in place; buffers are copied.

    Args:
        target: The module to move (e.g. from :func:`make_target`).
        source: The online module, with the same architecture.
        tau: Step size in [0, 1]: 1 copies ``source``, 0 leaves ``target`` as it is.
    """
    if not 0.0 <= tau <= 1.0:
        raise ValueError(f"tau must be in [0, 1], got {tau}")
    target_params, source_params = list(target.parameters()), list(source.parameters())
    if len(target_params) != len(source_params) or any(
        t.shape != s.shape for t, s in zip(target_params, source_params, strict=True)
    ):
        raise ValueError("target and source must have the same parameters (same architecture)")
    if tau == 1.0:
        torch._foreach_copy_(target_params, source_params)
    elif tau > 0.0:
        torch._foreach_lerp_(target_params, source_params, tau)
    for target_buffer, source_buffer in zip(target.buffers(), source.buffers(), strict=True):
        target_buffer.copy_(source_buffer)
