"""TopoRAG trace pruning (Eq. 1) and re-ranking (Eq. 2) of retrieved traces, and the top-3 fusion weights
(papers/llm-mappo.md, d, "Pruning", "Re-rank")."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch_geometric.nn import DenseGraphConv

from edgeplace.models.layers import mlp
from edgeplace.models.toporag.config import TopoRagArgs
from edgeplace.models.toporag.dense_graph import undirected_adjacency
from edgeplace.models.toporag.inputs import TraceInputs


@dataclass(frozen=True)
class TraceScores:
    """Output of :class:`TraceScorer`.

    Shapes: scores (B, J), -inf at invalid traces; alpha_v (B, J, S) in (0, 1) at valid slots of valid
    traces, 0 elsewhere; alpha_e (B, J, G) in (0, 1) at valid edges of valid traces, 0 elsewhere.
    """

    scores: Tensor
    alpha_v: Tensor
    alpha_e: Tensor


def safe_divide(num: Tensor, den: Tensor) -> Tensor:
    """``num / den`` where ``den > 0``, 0 elsewhere, with finite gradients. Shapes: broadcastable."""
    positive = den > 0
    return torch.where(positive, num / torch.where(positive, den, torch.ones_like(den)), 0.0)


def fusion_weights(scores: Tensor, top: int = 3) -> Tensor:
    """pi: a softmax over each query's ``top`` best finite scores, 0 on the other traces; a query with no
    finite score gets all zeros (never NaN).

    Shapes: scores (B, J), -inf at invalid traces -> pi (B, J).
    """
    best, index = scores.topk(min(top, scores.shape[-1]), dim=-1)  # (B, k)
    finite = torch.isfinite(best)
    peak = best.masked_fill(~finite, -torch.inf).amax(-1, keepdim=True)  # (B, 1), -inf when none
    peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak)).detach()
    weight = torch.where(finite, (best.masked_fill(~finite, 0.0) - peak).exp(), 0.0)  # (B, k)
    pi = safe_divide(weight, weight.sum(-1, keepdim=True))
    return torch.zeros_like(scores).scatter(-1, index, pi)


class TraceScorer(nn.Module):
    """Prunes each trace's slots and edges against the query (Eq. 1) and re-ranks the traces (Eq. 2).

    Pruning: ``z_v = Linear(f_v)``, ``alpha_v = sigmoid(MLP_v[||z_v - q_ctx||, f_v, age])``;
    ``z_e = Linear(f_e)``, ``r_e`` = the same Linear on the current placement's edge features,
    ``alpha_e = sigmoid(MLP_e[||z_e - r_e||, f_e, age])``.
    Re-rank: ``sage_layers`` weighted-mean SAGE layers on the undirected trace graph, ``h0 = z_v``, message
    ``alpha_u alpha_uv h_u`` normalised by the summed weights (0 without neighbours), ReLU between layers;
    ``relevance(v) = q_ctx^T h_v / sqrt(q_dim)``; score = alpha_v-weighted mean relevance + s_j.

    Args:
        args: sizes (``slot_dim``, ``edge_dim``, ``q_dim``, ``gate_hidden``, ``sage_layers``).

    Shapes:
        x :class:`TraceInputs` (B, J, S, G), q_ctx (B, q_dim) -> :class:`TraceScores`.
    """

    def __init__(self, args: TopoRagArgs | None = None) -> None:
        super().__init__()
        self.args = args = args or TopoRagArgs()
        self.slot_embed = nn.Linear(args.slot_dim, args.q_dim)
        self.edge_embed = nn.Linear(args.edge_dim, args.q_dim)
        self.slot_gate = mlp(args.slot_dim + 2, [args.gate_hidden], 1)
        self.edge_gate = mlp(args.edge_dim + 2, [args.gate_hidden], 1)
        self.convs = nn.ModuleList(
            DenseGraphConv(args.q_dim, args.q_dim, aggr="add") for _ in range(args.sage_layers)
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in (self.slot_embed, self.edge_embed, *self.slot_gate, *self.edge_gate, *self.convs):
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def prune_slots(self, f_v: Tensor, age: Tensor, q_ctx: Tensor) -> tuple[Tensor, Tensor]:
        """z_v and the unmasked alpha_v. Shapes: f_v (B, J, S, F), age (B, J), q_ctx (B, d)
        -> z_v (B, J, S, d), alpha_v (B, J, S)."""
        z_v = self.slot_embed(f_v)  # (B, J, S, d)
        dist = (z_v - q_ctx[:, None, None, :]).norm(dim=-1, keepdim=True)  # (B, J, S, 1)
        age = age[:, :, None, None].expand(*f_v.shape[:-1], 1)  # (B, J, S, 1)
        return z_v, torch.sigmoid(self.slot_gate(torch.cat([dist, f_v, age], -1))).squeeze(-1)

    def prune_edges(self, f_e: Tensor, current: Tensor, age: Tensor) -> Tensor:
        """The unmasked alpha_e. Shapes: f_e (B, J, G, F), current (B, G, F), age (B, J) -> (B, J, G)."""
        r_e = self.edge_embed(current).unsqueeze(1)  # (B, 1, G, d)
        dist = (self.edge_embed(f_e) - r_e).norm(dim=-1, keepdim=True)  # (B, J, G, 1)
        age = age[:, :, None, None].expand(*f_e.shape[:-1], 1)  # (B, J, G, 1)
        return torch.sigmoid(self.edge_gate(torch.cat([dist, f_e, age], -1))).squeeze(-1)

    def rerank(
        self, z_v: Tensor, alpha_v: Tensor, alpha_e: Tensor, edge_index: Tensor, slot_ok: Tensor
    ) -> Tensor:
        """Node states after the weighted-mean SAGE layers (alphas already 0 where masked).

        Shapes: z_v (B, J, S, d), alpha_v (B, J, S), alpha_e (B, J, G), edge_index (B, 2, G),
        slot_ok (B, J, S) -> h (B, J, S, d), zero at masked slots.
        """
        batch, traces, slots, width = z_v.shape
        adj = undirected_adjacency(edge_index, alpha_e, slots)  # (B, J, S, S): [v, u] = alpha_uv
        adj = adj * alpha_v.unsqueeze(-2) * slot_ok.unsqueeze(-1).to(adj.dtype)  # times alpha_u, valid v
        adj = safe_divide(adj, adj.sum(-1, keepdim=True)).reshape(-1, slots, slots)  # (B*J, S, S)
        mask = slot_ok.reshape(-1, slots)  # (B*J, S)
        h = z_v.reshape(-1, slots, width) * mask.unsqueeze(-1).to(z_v.dtype)  # (B*J, S, d)
        for index, conv in enumerate(self.convs):
            if index:
                h = h.relu()
            h = conv(h, adj, mask)  # lin_rel(adj @ h) + lin_root(h), masked
        return h.reshape(batch, traces, slots, width)

    def forward(self, x: TraceInputs, q_ctx: Tensor) -> TraceScores:
        slot_ok = x.slot_valid & x.trace_valid.unsqueeze(-1)  # (B, J, S)
        edge_ok = x.edge_valid.unsqueeze(1) & x.trace_valid.unsqueeze(-1)  # (B, J, G)
        age = x.age.masked_fill(~x.trace_valid, 0.0)  # (B, J); padding may hold anything
        z_v, alpha_v = self.prune_slots(x.slot_feats.masked_fill(~slot_ok.unsqueeze(-1), 0.0), age, q_ctx)
        current = x.current_edge_feats.masked_fill(~x.edge_valid.unsqueeze(-1), 0.0)  # (B, G, F)
        alpha_e = self.prune_edges(x.edge_feats.masked_fill(~edge_ok.unsqueeze(-1), 0.0), current, age)
        alpha_v, alpha_e = alpha_v * slot_ok, alpha_e * edge_ok  # (B, J, S), (B, J, G)
        edge_index = x.edge_index.masked_fill(~x.edge_valid.unsqueeze(1), 0)  # (B, 2, G), padding -> (0, 0)
        h = self.rerank(z_v, alpha_v, alpha_e, edge_index, slot_ok)  # (B, J, S, d)
        relevance = torch.einsum("bd,bjsd->bjs", q_ctx, h) / math.sqrt(h.shape[-1])  # (B, J, S)
        score = safe_divide((alpha_v * relevance).sum(-1), alpha_v.sum(-1)) + x.s_j  # (B, J)
        return TraceScores(score.masked_fill(~x.trace_valid, -torch.inf), alpha_v, alpha_e)
