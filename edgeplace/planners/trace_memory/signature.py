"""Per-class DAG signatures of the trace memory and the DAG similarity S_dag (papers/llm-mappo.md, section d,
"Memory entry" and "Retrieval").

A class's signature is one row of ``SIG_WIDTH`` unsigned counts (see :class:`SigColumn`): the number of
microservices |M|, of edges |E|, the depth (number of longest-path levels), the width (most microservices
on one level), then a 1-iteration Weisfeiler-Lehman histogram:

* iteration 0: each microservice's label is (in-degree, out-degree, demand tier), hashed into
  ``WL_BINS`` bins (columns ``WL .. WL + WL_BINS - 1``);
* iteration 1: each label is refined with the multiset of its parents' labels and, separately, the multiset
  of its children's labels, hashed into the next ``WL_BINS`` bins.

Hashing is splitmix64 over fixed salts (no Python ``hash``, so it is the same in every process); a
multiset is hashed as the wrapping uint64 sum of its members' hashes (order-free). Every real microservice
adds one count to each half, so a class's histogram sums to 2|M|. Isomorphic DAGs (any relabelling of the
microservices with their tiers) get equal signatures.

Inputs are plain arrays (no env, no workload objects): parent matrices ``parents[..., j, i]`` = "i is a
parent of j" (as :class:`edgeplace.workloads.metaverse_dag.DagTemplates`), demand tiers (0 light,
1 medium, 2 heavy) and the real microservice count of each padded DAG.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

WL_BINS = 16
"""Hash bins of each WL iteration; a class's histogram has ``2 * WL_BINS`` = 32 bins."""
SIG_WIDTH = 4 + 2 * WL_BINS
"""Columns of a class signature."""
MAX_DAG_NODES = 255
"""Largest padded DAG (keeps every count within uint16)."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1, _MUL2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_SALT_LABEL, _SALT_PARENT, _SALT_CHILD = np.uint64(0x5EED0), np.uint64(0x5EED1), np.uint64(0x5EED2)


class SigColumn(IntEnum):
    """Columns of a class signature row; the WL histogram starts at ``WL``."""

    NUM_MS = 0
    NUM_EDGES = 1
    DEPTH = 2
    WIDTH = 3
    WL = 4


def _splitmix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, elementwise on uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MUL1
        z = (z ^ (z >> np.uint64(27))) * _MUL2
        return z ^ (z >> np.uint64(31))


def _combine(*parts: np.ndarray) -> np.ndarray:
    """Order-dependent hash of equally shaped uint64 arrays."""
    h = np.zeros(np.broadcast(*parts).shape, np.uint64)
    for part in parts:
        h = _splitmix(h ^ part.astype(np.uint64))
    return h


def parents_from_edges(src: np.ndarray, dst: np.ndarray, num_nodes: int) -> np.ndarray:
    """A parent matrix from an edge list ``src[e] -> dst[e]``.

    Shapes: src, dst: (E,) int -> (num_nodes, num_nodes) bool, ``[j, i]`` = i is a parent of j.
    """
    src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
    if src.shape != dst.shape or src.ndim != 1:
        raise ValueError(f"edges: src {src.shape} and dst {dst.shape} must be equal 1-D shapes")
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= num_nodes):
        raise ValueError(f"edges: node ids must lie in [0, {num_nodes})")
    parents = np.zeros((num_nodes, num_nodes), bool)
    parents[dst, src] = True
    return parents


def dag_signature(
    parents: np.ndarray, demand_tier: np.ndarray, num_ms: np.ndarray | int | None = None
) -> np.ndarray:
    """Signatures of padded DAGs, vectorised over any leading axes (classes, traces, ...).

    Args:
        parents: ``[..., j, i]`` = i is a parent of j; must be acyclic and zero on padding.
        demand_tier: per microservice demand tier, >= 0 (padding ignored).
        num_ms: real microservices of each DAG (the first ``num_ms`` rows); None: all M.

    Shapes:
        parents: (..., M, M) bool; demand_tier: (..., M) int; num_ms: (...) int -> (..., SIG_WIDTH) uint16.
    """
    parents = np.asarray(parents, bool)
    m = parents.shape[-1]
    if parents.ndim < 2 or parents.shape[-2] != m:
        raise ValueError(f"parents: expected (..., M, M), got {parents.shape}")
    if m > MAX_DAG_NODES:
        raise ValueError(f"parents: at most {MAX_DAG_NODES} microservices per DAG, got {m}")
    lead = parents.shape[:-2]
    tier = np.asarray(demand_tier)
    if tier.shape != (*lead, m) or not np.issubdtype(tier.dtype, np.integer):
        raise ValueError(f"demand_tier: expected integer {(*lead, m)}, got {tier.dtype} {tier.shape}")
    count = np.broadcast_to(np.asarray(m if num_ms is None else num_ms, np.int64), lead)
    if np.any((count < 0) | (count > m)):
        raise ValueError(f"num_ms: must lie in [0, {m}]")
    real = np.arange(m) < count[..., None]  # (..., M)
    if np.any(parents & ~(real[..., :, None] & real[..., None, :])):
        raise ValueError("parents: edges touch padding microservices (beyond num_ms)")
    if np.any(np.diagonal(parents, axis1=-2, axis2=-1)):
        raise ValueError("parents: self-loops")
    if np.any(real & (tier < 0)):
        raise ValueError("demand_tier: must be >= 0")

    level = np.zeros((*lead, m), np.int64)  # longest path from a source, in edges
    for _ in range(m + 1):
        relaxed = np.where(parents, level[..., None, :] + 1, 0).max(axis=-1)
        if np.array_equal(relaxed, level):
            break
        level = relaxed
    else:
        raise ValueError("parents: not acyclic")
    depth = np.where(count > 0, np.where(real, level, -1).max(axis=-1, initial=-1) + 1, 0)
    per_level = ((level[..., :, None] == np.arange(m)) & real[..., :, None]).sum(axis=-2)  # (..., M)
    width = per_level.max(axis=-1, initial=0)

    in_deg, out_deg = parents.sum(axis=-1), parents.sum(axis=-2)  # (..., M)
    label0 = _combine(_SALT_LABEL, in_deg, out_deg, np.where(real, tier, 0))
    as_parent = _splitmix(label0 ^ _SALT_PARENT)  # what a child sees of this node
    as_child = _splitmix(label0 ^ _SALT_CHILD)
    with np.errstate(over="ignore"):
        from_parents = (parents * as_parent[..., None, :]).sum(axis=-1, dtype=np.uint64)
        from_children = (parents * as_child[..., :, None]).sum(axis=-2, dtype=np.uint64)
    label1 = _combine(label0, from_parents, from_children)
    bins = np.concatenate(
        [label0 % np.uint64(WL_BINS), WL_BINS + label1 % np.uint64(WL_BINS)], axis=-1
    ).astype(np.int64)  # (..., 2M)
    real2 = np.concatenate([real, real], axis=-1)
    histogram = ((bins[..., :, None] == np.arange(2 * WL_BINS)) & real2[..., :, None]).sum(axis=-2)

    sizes = np.stack([count, parents.sum(axis=(-2, -1)), depth, width], axis=-1)
    return np.concatenate([sizes, histogram], axis=-1).astype(np.uint16)


def dag_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """S_dag = 1 - sum_c(|dM_c| + |dE_c| + L1(WL_a,c - WL_b,c)) / sum_c(sizes), batched by broadcasting.

    The spec leaves "sizes" open; we take both sides' totals, sum_c(M_a + M_b + E_a + E_b + |WL_a|_1 +
    |WL_b|_1), which bounds the numerator, so S_dag is in [0, 1] and is 1 exactly when the counts agree.
    Two empty catalogues give 1. Depth and width are kept in the signature but not scored (the spec's
    formula does not use them).

    Shapes: a: (..., C, SIG_WIDTH), b: (..., C, SIG_WIDTH), broadcast -> (...) float64.
        Typical use: a (C, SIG_WIDTH) query against b (K, C, SIG_WIDTH) candidates -> (K,).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape[-1] != SIG_WIDTH or b.shape[-1] != SIG_WIDTH:
        raise ValueError(f"dag_sig: last axis must be {SIG_WIDTH}, got {a.shape} and {b.shape}")
    sizes = slice(SigColumn.NUM_MS, SigColumn.NUM_EDGES + 1)
    wl = slice(SigColumn.WL, None)
    diff = np.abs(a[..., sizes] - b[..., sizes]).sum(axis=(-2, -1)) + np.abs(a[..., wl] - b[..., wl]).sum(
        axis=(-2, -1)
    )
    total = a[..., sizes].sum(axis=(-2, -1)) + b[..., sizes].sum(axis=(-2, -1))
    total = total + a[..., wl].sum(axis=(-2, -1)) + b[..., wl].sum(axis=(-2, -1))
    return np.where(total > 0, 1.0 - diff / np.maximum(total, 1.0), 1.0)
