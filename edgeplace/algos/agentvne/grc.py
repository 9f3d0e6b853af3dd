"""Global resource capacity (GRC) node ranking (papers/agentvne.md, section g, ``greedy_grc``).

r = (1 - d) c + d M r with c_u = cpu_res(u) / sum cpu_res and M_uv = B_uv / sum over neighbours w of v
of B_vw (residual link bandwidth), iterated from r = c until the L1 change is below ``tol``.
"""

from __future__ import annotations

import numpy as np

DAMPING = 0.85
TOLERANCE = 1e-6
MAX_ITERATIONS = 10_000


def grc_rank(
    cpu_free: np.ndarray,
    bandwidth: np.ndarray,
    damping: float = DAMPING,
    tol: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
) -> np.ndarray:
    """GRC scores.

    Shapes: cpu_free (B, N) or (N,); bandwidth (B, N, N) or (N, N) symmetric residual bandwidth
    between neighbours (0 where not linked) -> same shape as ``cpu_free``.
    """
    c = np.atleast_2d(np.asarray(cpu_free, dtype=np.float64))
    single = np.ndim(cpu_free) == 1
    b = np.asarray(bandwidth, dtype=np.float64)
    b = np.broadcast_to(b, (c.shape[0], *b.shape[-2:]))
    total = c.sum(axis=1, keepdims=True)
    c = np.divide(c, total, out=np.zeros_like(c), where=total > 0)
    column = b.sum(axis=1, keepdims=True)  # (B, 1, N): sum_w B_wv = sum_w B_vw
    m = np.divide(b, column, out=np.zeros_like(b), where=column > 0)
    r = c
    for _ in range(max_iterations):
        nxt = (1.0 - damping) * c + damping * np.einsum("buv,bv->bu", m, r)
        done = np.abs(nxt - r).sum(axis=1).max() < tol
        r = nxt
        if done:
            break
    return r[0] if single else r
