"""The model input of AgentVNE: a batch of (workflow graph, substrate graph) pairs, dense and padded."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor
from torch_geometric.data import Batch
from torch_geometric.utils import to_dense_adj, to_dense_batch


class GraphPair(NamedTuple):
    """Workflow (virtual) and substrate graphs of B requests.

    Shapes (Nv = max virtual nodes, Ns = max substrate nodes, F = 6 features):
        x_v (B, Nv, F); adj_v (B, Nv, Nv) symmetric 0/1; vn_mask (B, Nv) bool, real agents.
        x_s (B, Ns, F); adj_s (Ns, Ns) static, or (B, Ns, Ns), symmetric 0/1; sn_mask (B, Ns) bool.
    Padded rows and columns of the adjacencies are zero.
    """

    x_v: Tensor
    adj_v: Tensor
    vn_mask: Tensor
    x_s: Tensor
    adj_s: Tensor
    sn_mask: Tensor

    @classmethod
    def build(
        cls, x_v: Tensor, links_v: Tensor, vn_mask: Tensor, x_s: Tensor, adj_s: Tensor, sn_mask: Tensor
    ) -> GraphPair:
        """Symmetrise the directed workflow adjacency ``links_v`` (1 at [u, v] for u -> v), cast the
        masks to bool and the features to float32. Shapes as the fields."""
        adj_v = (links_v + links_v.transpose(-1, -2)).clamp(max=1.0).float()
        return cls(x_v.float(), adj_v, vn_mask > 0.5, x_s.float(), adj_s.float(), sn_mask > 0.5)


def dense_graphs(batch: Batch, max_nodes: int) -> tuple[Tensor, Tensor, Tensor]:
    """A PyG ``Batch`` of graphs as dense padded tensors (the form :class:`GraphPair` holds).

    Shapes: batch.x (sum N_i, F), batch.edge_index (2, E) -> x (B, max_nodes, F),
    adj (B, max_nodes, max_nodes) 0/1 symmetric, mask (B, max_nodes) bool.
    """
    sizes = torch.bincount(batch.batch, minlength=batch.num_graphs)
    if int(sizes.max()) > max_nodes:
        raise ValueError(f"dense_graphs: a graph has {int(sizes.max())} nodes, max_nodes is {max_nodes}")
    x, mask = to_dense_batch(batch.x, batch.batch, max_num_nodes=max_nodes, batch_size=batch.num_graphs)
    adj = to_dense_adj(batch.edge_index, batch.batch, max_num_nodes=max_nodes, batch_size=batch.num_graphs)
    adj = (adj + adj.transpose(1, 2)).clamp(max=1.0)
    return x.float(), adj, mask
