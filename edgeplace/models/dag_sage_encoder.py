"""GNN-DRL's encoder of an edge controller's observation (papers/llm-mappo.md, f, "GNN-DRL"): GraphSAGE
over the region's option graph and over the slot graph of the DAGs, pooled into x_t like Eq. 23; its
node and slot embeddings are what the pointer head scores.

The graphs come from the metaverse-dag observation (models do not import envs; the column constants
below restate its layout, and a test checks them against the env):

- option graph: options are the non-zero ``node_feats`` rows (padding and NONE are zero); each live link
  of ``link_index`` (``link_feats`` up column 1; padding and down links are 0) joins its two ends, both
  ways;
- slot graph: slots are the non-zero ``slot_feats`` rows; each real DAG edge of ``edge_index`` (non-zero
  ``edge_feats`` row) joins the replica-0 slots of its ends, both ways, and every other replica slot is
  joined to its microservice's replica 0. The observation names a slot's microservice by its class
  one-hot and topological quantile and its replica by ``replica / R_max`` (0 on replica 0).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from edgeplace.models.dag_fusion import (
    agent_plan_weights,
    masked_max,
    masked_mean,
    project_plan,
    reset_agent_plan_weights,
)
from edgeplace.models.dense_sage import DenseSAGE
from edgeplace.models.toporag.dense_graph import link_adjacency

#: ``slot_feats`` columns [0, SLOT_MS_END) name a slot's microservice: class one-hot (3), quantile.
SLOT_MS_END = 4
#: ``slot_feats`` column of replica / R_max (0 on each microservice's replica 0).
SLOT_REPLICA_COLUMN = 4
#: ``link_feats`` column that is 1 on a live link (0 on down links and padding).
LINK_UP_COLUMN = 5


def option_adjacency(link_index: Tensor, link_feats: Tensor, node_valid: Tensor) -> Tensor:
    """Symmetric 0/1 adjacency of the live links between real options.

    Shapes: link_index (B, 2, L) long, link_feats (B, L, F), node_valid (B, O) bool -> (B, O, O).
    """
    live = link_feats[..., LINK_UP_COLUMN] > 0  # (B, L)
    return link_adjacency(link_index, live, node_valid).to(link_feats.dtype)


def slot_adjacency(edge_index: Tensor, edge_feats: Tensor, slot_feats: Tensor, slot_valid: Tensor) -> Tensor:
    """Symmetric 0/1 adjacency of the slot graph: DAG edges between replica-0 slots, and each replica
    slot to its microservice's replica 0.

    Shapes: edge_index (B, 2, E) long, edge_feats (B, E, F), slot_feats (B, S, Fs), slot_valid (B, S) bool
    -> (B, S, S).
    """
    dag = link_adjacency(edge_index, edge_feats.abs().sum(-1) > 0, slot_valid)  # (B, S, S)
    ms = slot_feats[..., :SLOT_MS_END]  # (B, S, 4)
    same_ms = (ms.unsqueeze(2) == ms.unsqueeze(1)).all(-1)  # (B, S, S)
    first = slot_feats[..., SLOT_REPLICA_COLUMN] == 0  # (B, S), replica 0
    to_first = same_ms & first.unsqueeze(1) & ~first.unsqueeze(2)  # row: a replica > 0, column: its replica 0
    pair = slot_valid.unsqueeze(-1) & slot_valid.unsqueeze(-2)  # (B, S, S)
    return (dag | ((to_first | to_first.transpose(1, 2)) & pair)).to(slot_feats.dtype)


class DagSageEncoder(nn.Module):
    """``x = [mean ‖ max of SAGE_n(options) over real options ‖ mean of SAGE_s(slots) over real slots ‖
    region ‖ W_k z_plan]`` (the layout and widths of :class:`~edgeplace.models.dag_fusion.DagFusionEncoder`,
    GraphSAGE in place of its row-wise MLPs), plus the node and slot embeddings e_n and e_s.

    Args:
        node_dim, slot_dim, region_dim, plan_dim: feature widths of the observation entries.
        node_width: width of the pooled node part (mean and max halves: SAGE_n outputs node_width / 2).
        slot_width: width of SAGE_s and of the pooled slot part.
        option_layers, slot_layers: depth of SAGE_n and SAGE_s (GNN-DRL: 3 and 2).
        plan_width: width of W_k z_plan (0: no plan input).
        agent_slots: how many W_k (the one-hot's length).

    Shapes:
        node_feats (B, O, Fn), node_adj (B, O, O), node_valid (B, O) bool, slot_feats (B, S, Fs),
        slot_adj (B, S, S), slot_valid (B, S) bool, region (B, R), plan_z (B, P), agent (B, K) one-hot
        -> x (B, out_dim), e_n (B, O, node_width / 2), e_s (B, S, slot_width); e_n, e_s 0 on padding.
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
        option_layers: int = 3,
        slot_layers: int = 2,
        plan_width: int = 32,
        agent_slots: int = 16,
    ) -> None:
        super().__init__()
        if node_width % 2 or min(option_layers, slot_layers) < 1:
            raise ValueError(
                "DagSageEncoder: node_width must be even and option_layers, slot_layers >= 1, got "
                f"{node_width}, {option_layers}, {slot_layers}"
            )
        self.options = DenseSAGE(node_dim, node_width // 2, option_layers)
        self.slots = DenseSAGE(slot_dim, slot_width, slot_layers)
        self.plan_proj = agent_plan_weights(agent_slots, plan_dim, plan_width)
        self.out_dim = node_width + slot_width + region_dim + plan_width
        self.node_emb_dim, self.slot_emb_dim = node_width // 2, slot_width
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.options.reset_parameters()
        self.slots.reset_parameters()
        if self.plan_proj is not None:
            reset_agent_plan_weights(self.plan_proj)

    def forward(
        self,
        node_feats: Tensor,
        node_adj: Tensor,
        node_valid: Tensor,
        slot_feats: Tensor,
        slot_adj: Tensor,
        slot_valid: Tensor,
        region: Tensor,
        plan_z: Tensor,
        agent: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor]:
        e_n = self.options(node_feats, node_adj, node_valid)  # (B, O, dn)
        e_s = self.slots(slot_feats, slot_adj, slot_valid)  # (B, S, ds)
        parts = [
            masked_mean(e_n, node_valid),
            masked_max(e_n, node_valid),
            masked_mean(e_s, slot_valid),
            region,
        ]
        if self.plan_proj is not None:
            parts.append(project_plan(plan_z, agent, self.plan_proj))  # (B, plan_width)
        return torch.cat(parts, dim=-1), e_n, e_s
