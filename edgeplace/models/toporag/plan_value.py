"""TopoRAG plan value R_hat and KPI prediction (papers/llm-mappo.md, d, "Plan", "Training and drift")."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from edgeplace.models.layers import mlp
from edgeplace.models.toporag.config import TopoRagArgs


class PlanValue(nn.Module):
    """``R_hat = sigmoid(MLP[q_ctx | z_plan])`` and the KPI prediction ``sum_j pi_j kpi_j + MLP[q_ctx |
    z_plan]`` (two separate MLPs, one hidden layer of ``plan_hidden`` each).

    Args:
        args: sizes (``q_dim``, ``z_plan_dim``, ``plan_hidden``, ``num_kpis``).

    Shapes:
        q_ctx (B, q_dim), z_plan (B, z_plan_dim) -> r_hat (B,) in (0, 1).
    """

    def __init__(self, args: TopoRagArgs | None = None) -> None:
        super().__init__()
        self.args = args = args or TopoRagArgs()
        width = args.q_dim + args.z_plan_dim
        self.value = mlp(width, [args.plan_hidden], 1)
        self.residual = mlp(width, [args.plan_hidden], args.num_kpis)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in (*self.value, *self.residual):
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def kpi_residual(self, q_ctx: Tensor, z_plan: Tensor) -> Tensor:
        """The learnt correction of the fused KPIs. Shapes: -> (B, num_kpis)."""
        return self.residual(torch.cat([q_ctx, z_plan], dim=-1))

    def predict_kpis(self, pi: Tensor, trace_kpis: Tensor, q_ctx: Tensor, z_plan: Tensor) -> Tensor:
        """pi-weighted mean of the traces' KPIs plus the residual (traces with pi = 0 are ignored, even NaN).

        Shapes: pi (B, J), trace_kpis (B, J, K), q_ctx (B, q_dim), z_plan (B, z_plan_dim) -> (B, K).
        """
        kpis = trace_kpis.masked_fill((pi == 0).unsqueeze(-1), 0.0)  # (B, J, K)
        return torch.einsum("bj,bjk->bk", pi, kpis) + self.kpi_residual(q_ctx, z_plan)

    def forward(self, q_ctx: Tensor, z_plan: Tensor) -> Tensor:
        return torch.sigmoid(self.value(torch.cat([q_ctx, z_plan], dim=-1))).squeeze(-1)  # (B,)
