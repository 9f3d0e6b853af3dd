"""The fused input of an edge controller (papers/llm-mappo.md, e, Eq. 23): pooled node and slot
embeddings, the region vector and a per-agent projection of the plan embedding, concatenated."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def tanh_mlp(inputs: int, widths: tuple[int, ...]) -> nn.Sequential:
    """Linear-tanh layers of ``widths`` (the last included). Shapes: (..., inputs) -> (..., widths[-1])."""
    layers: list[nn.Module] = []
    for width in widths:
        layers += [nn.Linear(inputs, width), nn.Tanh()]
        inputs = width
    return nn.Sequential(*layers)


def masked_mean(x: Tensor, valid: Tensor) -> Tensor:
    """Mean over the valid rows (0 where none is). Shapes: x (B, N, F), valid (B, N) bool -> (B, F)."""
    weights = valid.to(x.dtype).unsqueeze(-1)  # (B, N, 1)
    return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def masked_max(x: Tensor, valid: Tensor) -> Tensor:
    """Max over the valid rows (0 where none is). Shapes: x (B, N, F), valid (B, N) bool -> (B, F)."""
    filled = x.masked_fill(~valid.unsqueeze(-1), float("-inf")).amax(dim=1)
    return torch.where(valid.any(dim=1, keepdim=True), filled, torch.zeros_like(filled))


def agent_plan_weights(agent_slots: int, plan_dim: int, plan_width: int) -> nn.Parameter | None:
    """One W_k (plan_dim, plan_width) per agent slot, uninitialised (None when ``plan_width`` is 0)."""
    return nn.Parameter(torch.empty(agent_slots, plan_dim, plan_width)) if plan_width else None


def reset_agent_plan_weights(weights: nn.Parameter) -> None:
    """Xavier-uniform W_0, copied to every W_k (all agents alike at start)."""
    nn.init.xavier_uniform_(weights[0])
    with torch.no_grad():
        weights.copy_(weights[0].expand_as(weights))


def project_plan(plan_z: Tensor, agent: Tensor, weights: Tensor) -> Tensor:
    """W_k z_plan with each row's own W_k. Shapes: plan_z (B, P), agent (B, K) one-hot,
    weights (K, P, W) -> (B, W)."""
    w_k = torch.einsum("bk,kpw->bpw", agent, weights)  # (B, P, W)
    return torch.einsum("bp,bpw->bw", plan_z, w_k)


class DagFusionEncoder(nn.Module):
    """``x = [mean ‖ max of MLP_n(node_feats) over real options ‖ mean of MLP_s(slot_feats) over real
    slots ‖ region ‖ W_k z_plan]`` (Eq. 23 is a concatenation, spec h4), plus the per-option and per-slot
    embeddings e_n and e_s that the pointer head scores.

    W_k is one (plan_dim, plan_width) matrix per agent slot, picked by the agent's one-hot (the tail of
    the critic ``state``); with ``plan_width = 0`` the plan is not fused (planner ``none`` or the
    ``plan_input`` switch off).

    Args:
        node_dim, slot_dim, region_dim, plan_dim: feature widths of the observation entries.
        node_width: width of the pooled node part (mean and max halves: MLP_n outputs node_width / 2).
        slot_width: width of MLP_s and of the pooled slot part.
        plan_width: width of W_k z_plan (0: no plan input).
        agent_slots: how many W_k (the one-hot's length).

    Shapes:
        node_feats (B, O, Fn), node_valid (B, O) bool, slot_feats (B, S, Fs), slot_valid (B, S) bool,
        region (B, R), plan_z (B, P), agent (B, K) one-hot
        -> x (B, out_dim), e_n (B, O, node_width / 2), e_s (B, S, slot_width).
    """

    def __init__(
        self,
        node_dim: int,
        slot_dim: int,
        region_dim: int,
        plan_dim: int,
        *,
        node_width: int = 128,
        slot_width: int = 64,
        plan_width: int = 32,
        agent_slots: int = 16,
    ) -> None:
        super().__init__()
        if node_width % 2:
            raise ValueError(
                f"DagFusionEncoder: node_width must be even (mean and max halves), got {node_width}"
            )
        self.plan_width = plan_width
        self.node_mlp = tanh_mlp(node_dim, (node_width // 2, node_width // 2))
        self.slot_mlp = tanh_mlp(slot_dim, (slot_width, slot_width))
        self.plan_proj = agent_plan_weights(agent_slots, plan_dim, plan_width)
        self.out_dim = node_width + slot_width + region_dim + plan_width
        self.node_emb_dim, self.slot_emb_dim = node_width // 2, slot_width
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for mlp in (self.node_mlp, self.slot_mlp):
            for layer in mlp:
                if isinstance(layer, nn.Linear):
                    layer.reset_parameters()
        if self.plan_proj is not None:
            reset_agent_plan_weights(self.plan_proj)

    def forward(
        self,
        node_feats: Tensor,
        node_valid: Tensor,
        slot_feats: Tensor,
        slot_valid: Tensor,
        region: Tensor,
        plan_z: Tensor,
        agent: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor]:
        e_n = self.node_mlp(node_feats)  # (B, O, dn)
        e_s = self.slot_mlp(slot_feats)  # (B, S, ds)
        parts = [
            masked_mean(e_n, node_valid),
            masked_max(e_n, node_valid),
            masked_mean(e_s, slot_valid),
            region,
        ]
        if self.plan_proj is not None:
            parts.append(project_plan(plan_z, agent, self.plan_proj))  # (B, plan_width)
        return torch.cat(parts, dim=-1), e_n, e_s
