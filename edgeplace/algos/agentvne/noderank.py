"""NodeRank with a virtual resource bias (papers/agentvne.md, section f, Eq.20-24). Numpy only.

Eq.20  H(u) = (cpu_res(u) + beta_cpu(u)) * sum over links e at u of bw_res(e), beta_cpu = b * ref_cpu
Eq.21  NR0(u) = H(u) / sum_w H(w)
Eq.22  p_uv = H(v) / sum over neighbours w of u of H(w)
Eq.23  NR_{t+1}(v) = NR_t(v) + d * sum over neighbours u of v of p_uv NR_t(u), then L1-normalised
Eq.24  NR(u) = NR_T(u)^3 / sum_w NR_T(w)^3
"""

from __future__ import annotations

import numpy as np

#: d of Eq.23 and T, the number of iterations (spec f defaults).
DAMPING = 0.2
ITERATIONS = 2


def incident_sum(edge_index: np.ndarray, link_values: np.ndarray, num_nodes: int) -> np.ndarray:
    """Sum of link values over the links at each node. Shapes: (2, E), (B, E) -> (B, N)."""
    values = np.atleast_2d(np.asarray(link_values, dtype=np.float64))
    out = np.zeros((num_nodes, values.shape[0]))
    for ends in edge_index:
        np.add.at(out, ends, values.T)
    return out.T


def node_resource(
    cpu_free: np.ndarray, incident_bw: np.ndarray, bias_cpu: np.ndarray | float = 0.0
) -> np.ndarray:
    """Eq.20 H = (cpu_free + bias_cpu) * incident residual bandwidth. Shapes: (B, N) each -> (B, N)."""
    return (np.asarray(cpu_free) + bias_cpu) * np.asarray(incident_bw)


def noderank(
    resource: np.ndarray,
    adjacency: np.ndarray,
    damping: float = DAMPING,
    iterations: int = ITERATIONS,
) -> np.ndarray:
    """Eq.21-24 from node resources H.

    Nodes with H = 0 start at 0; if every H is 0 the start is uniform. A node whose neighbours all
    have H = 0 passes nothing on (its p_u. row is 0).

    Shapes: resource (B, N) or (N,); adjacency (N, N) 0/1 symmetric -> same shape as ``resource``,
    rows summing to 1 (0 rows where every score is 0).
    """
    h = np.asarray(resource, dtype=np.float64)
    single = h.ndim == 1
    h = np.atleast_2d(h)
    if (h < 0).any():
        raise ValueError("noderank: resources H must be >= 0")
    adjacency = np.asarray(adjacency, dtype=np.float64)
    total = h.sum(axis=1, keepdims=True)
    rank = np.divide(h, total, out=np.full_like(h, 1.0 / h.shape[1]), where=total > 0)  # Eq.21
    neighbour_sum = h @ adjacency  # (B, N): sum of H over each node's neighbours (A symmetric)
    # Eq.22 p_uv = A_uv H_v / sum_w A_uw H_w; Eq.23 adds d * sum_u p_uv NR_u to NR_v
    share = np.divide(rank, neighbour_sum, out=np.zeros_like(rank), where=neighbour_sum > 0)  # NR_u / S_u
    for _ in range(iterations):
        rank = rank + damping * h * (share @ adjacency)
        rank = _l1(rank)
        share = np.divide(rank, neighbour_sum, out=np.zeros_like(rank), where=neighbour_sum > 0)
    cubed = _l1(rank**3)  # Eq.24
    return cubed[0] if single else cubed


def _l1(values: np.ndarray) -> np.ndarray:
    total = values.sum(axis=1, keepdims=True)
    return np.divide(values, total, out=np.zeros_like(values), where=total > 0)
