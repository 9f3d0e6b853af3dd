"""The TopoRAG scorer: context encoder, trace scorer and plan value together (papers/llm-mappo.md, d)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from torch import Tensor, nn

from edgeplace.models.toporag.config import TopoRagArgs
from edgeplace.models.toporag.context_encoder import ContextEncoder
from edgeplace.models.toporag.inputs import ContextInputs, TraceInputs
from edgeplace.models.toporag.plan_value import PlanValue
from edgeplace.models.toporag.trace_scorer import TraceScorer, fusion_weights


@dataclass(frozen=True)
class TopoRagOutput:
    """Output of :meth:`TopoRagScorer.forward`.

    Shapes: q_ctx (B, q_dim); scores (B, J), -inf at invalid traces; pi (B, J); alpha_v (B, J, S);
    alpha_e (B, J, G); r_hat (B,) in (0, 1); kpis (B, num_kpis).
    """

    q_ctx: Tensor
    scores: Tensor
    pi: Tensor
    alpha_v: Tensor
    alpha_e: Tensor
    r_hat: Tensor
    kpis: Tensor


class TopoRagScorer(nn.Module):
    """Encodes the query context, prunes and re-ranks its retrieved traces, fuses the top ones and values a
    plan. Building the plan (and z_plan) from pi is the planner's job; training on the memory (loss
    ``MSE(r_hat, U) + .5 MSE(kpis, realised)``) passes each window's recorded z_plan.

    :meth:`encoder_parameters` are the context encoder's (frozen in the "frozen SAGE + trained heads"
    mode); :meth:`head_parameters` the trace scorer's and the plan value's.

    Args:
        args: sizes, shared by the three parts.

    Shapes:
        context :class:`ContextInputs` (B), traces :class:`TraceInputs` (B, J, S, G), z_plan (B, z_plan_dim),
        trace_kpis (B, J, num_kpis) -> :class:`TopoRagOutput`.
    """

    def __init__(self, args: TopoRagArgs | None = None) -> None:
        super().__init__()
        self.args = args = args or TopoRagArgs()
        self.encoder = ContextEncoder(args)
        self.traces = TraceScorer(args)
        self.plan = PlanValue(args)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for part in (self.encoder, self.traces, self.plan):
            part.reset_parameters()

    def encoder_parameters(self) -> Iterator[nn.Parameter]:
        return self.encoder.parameters()

    def head_parameters(self) -> Iterator[nn.Parameter]:
        yield from self.traces.parameters()
        yield from self.plan.parameters()

    def fuse(self, scores: Tensor) -> Tensor:
        """pi over the ``fusion_top`` best traces. Shapes: (B, J) -> (B, J)."""
        return fusion_weights(scores, self.args.fusion_top)

    def forward(
        self, context: ContextInputs, traces: TraceInputs, z_plan: Tensor, trace_kpis: Tensor
    ) -> TopoRagOutput:
        q_ctx = self.encoder(context)  # (B, q_dim)
        ranked = self.traces(traces, q_ctx)
        pi = self.fuse(ranked.scores)  # (B, J)
        kpis = self.plan.predict_kpis(pi, trace_kpis, q_ctx, z_plan)  # (B, K)
        r_hat = self.plan(q_ctx, z_plan)  # (B,)
        return TopoRagOutput(q_ctx, ranked.scores, pi, ranked.alpha_v, ranked.alpha_e, r_hat, kpis)
