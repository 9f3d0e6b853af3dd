"""TopoRAG context encoder: q_ctx from telemetry, the region's option graph and the class DAGs
(papers/llm-mappo.md, d, "Context encoder")."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from edgeplace.models.dense_sage import DenseSAGE
from edgeplace.models.layers import mlp
from edgeplace.models.toporag.config import TopoRagArgs
from edgeplace.models.toporag.dense_graph import link_adjacency, masked_mean
from edgeplace.models.toporag.inputs import ContextInputs


class ContextEncoder(nn.Module):
    """``q_ctx = Linear[MLP(telemetry) | pool SAGE(region) | pool SAGE(DAG_c) for each c | class_mix |
    policy_id]``.

    The option graph's links are made undirected; each class DAG's parent edges are used in both
    directions. One SAGE stack is shared by the C class DAGs (their blocks keep the class order), so the
    output Linear sees which class each 16-wide block belongs to.

    Args:
        args: sizes (``telemetry_dim``, ``node_dim``, ``dag_feat_dim``, ``num_classes``, widths).

    Shapes:
        :class:`ContextInputs` of B regions (O options, L links, C = ``num_classes``, M) -> q_ctx (B, q_dim).
    """

    def __init__(self, args: TopoRagArgs | None = None) -> None:
        super().__init__()
        self.args = args = args or TopoRagArgs()
        self.telemetry = mlp(args.telemetry_dim, [args.telemetry_width], args.telemetry_width)
        self.region = DenseSAGE(args.node_dim, args.region_width, args.sage_layers)
        self.dag = DenseSAGE(args.dag_feat_dim, args.dag_width, args.sage_layers)
        width = args.telemetry_width + args.region_width + args.num_classes * (args.dag_width + 1) + 1
        self.out = nn.Linear(width, args.q_dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in (*self.telemetry, self.region, self.dag, self.out):
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def region_embedding(self, x: ContextInputs) -> Tensor:
        """Mean-pooled SAGE over the option graph. Shapes: -> (B, region_width)."""
        adj = link_adjacency(x.link_index, x.link_valid, x.node_valid).to(x.node_feats.dtype)  # (B, O, O)
        return masked_mean(self.region(x.node_feats, adj, x.node_valid), x.node_valid)

    def dag_embedding(self, x: ContextInputs) -> Tensor:
        """Mean-pooled SAGE over each class DAG, blocks in class order. Shapes: -> (B, C * dag_width)."""
        batch, classes, size, feat = x.dag_feats.shape
        pair = x.dag_valid.unsqueeze(-1) & x.dag_valid.unsqueeze(-2)  # (B, C, M, M)
        adj = ((x.dag_parents | x.dag_parents.transpose(-1, -2)) & pair).to(x.dag_feats.dtype)
        mask = x.dag_valid.reshape(batch * classes, size)  # (B*C, M)
        h = self.dag(x.dag_feats.reshape(-1, size, feat), adj.reshape(-1, size, size), mask)  # (B*C, M, d)
        return masked_mean(h, mask).reshape(batch, -1)  # (B, C * d)

    def forward(self, x: ContextInputs) -> Tensor:
        parts = [
            self.telemetry(x.telemetry),  # (B, telemetry_width)
            self.region_embedding(x),  # (B, region_width)
            self.dag_embedding(x),  # (B, C * dag_width)
            x.class_mix,  # (B, C)
            x.policy_id.unsqueeze(-1).to(x.class_mix.dtype),  # (B, 1)
        ]
        return self.out(torch.cat(parts, dim=-1))  # (B, q_dim)
