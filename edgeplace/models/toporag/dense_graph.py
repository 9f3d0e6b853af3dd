"""Dense adjacency and pooling helpers for padded graph batches (no loops over graphs or edges)."""

from __future__ import annotations

import torch
from torch import Tensor


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``x`` over the valid rows (0 where none is valid).

    Shapes: x (*, N, F), mask (*, N) bool -> (*, F).
    """
    keep = mask.unsqueeze(-1).to(x.dtype)  # (*, N, 1)
    return (x * keep).sum(-2) / keep.sum(-2).clamp_min(1.0)


def undirected_adjacency(edge_index: Tensor, edge_weight: Tensor, num_nodes: int) -> Tensor:
    """``A[..., v, u]`` = summed weight of the edges between u and v in either direction (a self loop
    counts once). Edges with weight 0 may carry any index in ``[0, num_nodes)``.

    Shapes: edge_index (B, 2, G) long, edge_weight (B, J, G) -> (B, J, N, N), symmetric.
    """
    batch, copies, _ = edge_weight.shape
    src, dst = edge_index[:, 0], edge_index[:, 1]  # (B, G) each
    forward = (dst * num_nodes + src).unsqueeze(1).expand(-1, copies, -1)  # (B, J, G): row v=dst, col u=src
    backward = (src * num_nodes + dst).unsqueeze(1).expand(-1, copies, -1)
    once = (src != dst).unsqueeze(1).to(edge_weight.dtype)  # (B, 1, G), a self loop is not mirrored
    flat = edge_weight.new_zeros(batch, copies, num_nodes * num_nodes)
    flat = flat.scatter_add(2, forward, edge_weight).scatter_add(2, backward, edge_weight * once)
    return flat.view(batch, copies, num_nodes, num_nodes)


def link_adjacency(link_index: Tensor, link_valid: Tensor, node_valid: Tensor) -> Tensor:
    """Binary symmetric adjacency of the valid links between valid nodes (padding links may point anywhere
    in range; out-of-range padding is clamped to node 0 first).

    Shapes: link_index (B, 2, L) long, link_valid (B, L) bool, node_valid (B, O) bool -> (B, O, O).
    """
    num_nodes = node_valid.shape[-1]
    index = link_index.masked_fill(~link_valid.unsqueeze(1), 0)  # (B, 2, L), padding -> (0, 0)
    adj = undirected_adjacency(index, link_valid.unsqueeze(1).to(torch.float32), num_nodes)[:, 0]
    pair = node_valid.unsqueeze(-1) & node_valid.unsqueeze(-2)  # (B, O, O)
    return (adj > 0) & pair
