"""DAG signatures and S_dag of the trace memory."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.planners.trace_memory import (
    SIG_WIDTH,
    SigColumn,
    dag_signature,
    dag_similarity,
    parents_from_edges,
)
from edgeplace.workloads.metaverse_dag import sample_templates


def _templates(seed: int):
    tpl = sample_templates(np.random.default_rng(seed), (5, 12, 16), 16)
    tier = (tpl.cpu > 0.5).astype(np.int64) + (tpl.cpu > 1.5)
    return tpl.parents, tier, tpl.num_ms


def _relabel(
    parents: np.ndarray, tier: np.ndarray, n: int, perm: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The same DAG with microservice i renamed perm[i] (real nodes only)."""
    out_p, out_t = np.zeros_like(parents), np.zeros_like(tier)
    dst, src = np.nonzero(parents[:n, :n])
    out_p[perm[dst], perm[src]] = True
    out_t[perm[np.arange(n)]] = tier[:n]
    return out_p, out_t


def test_hand_made_dag_sizes():
    # 0 -> 1 -> 2 and 0 -> 3: 4 nodes, 3 edges, 3 levels, 2 on level 1.
    parents = parents_from_edges(np.array([0, 1, 0]), np.array([1, 2, 3]), 5)
    sig = dag_signature(parents, np.zeros(5, np.int64), num_ms=4)
    assert sig.shape == (SIG_WIDTH,) and sig.dtype == np.uint16
    assert sig[: SigColumn.WL].tolist() == [4, 3, 3, 2]
    assert sig[SigColumn.WL :].sum() == 2 * 4  # two WL iterations, one count per node each


def test_isomorphic_dags_have_equal_signatures():
    parents, tier, num_ms = _templates(0)
    sig = dag_signature(parents, tier, num_ms)  # batched over the 3 classes
    assert sig.shape == (3, SIG_WIDTH)
    rng = np.random.default_rng(1)
    for c in range(3):
        n = int(num_ms[c])
        p, t = _relabel(parents[c], tier[c], n, rng.permutation(n))
        assert not np.array_equal(p, parents[c])
        np.testing.assert_array_equal(dag_signature(p, t, n), sig[c])


def test_similarity_is_one_on_identical_and_drops_with_edits():
    parents, tier, num_ms = _templates(0)
    sig = dag_signature(parents, tier, num_ms)
    assert dag_similarity(sig, sig) == 1.0
    one_edge = parents.copy()
    dst, src = 10, 2  # TWIN: a new edge 2 -> 10 (not in the window, still acyclic)
    assert not one_edge[1, dst, src]
    one_edge[1, dst, src] = True
    retier = tier.copy()
    retier[2, :] = (retier[2, :] + 1) % 3
    other = dag_signature(*_templates(5))
    candidates = np.stack(
        [sig, dag_signature(one_edge, tier, num_ms), dag_signature(one_edge, retier, num_ms), other]
    )
    s = dag_similarity(sig, candidates)
    assert s.shape == (4,)
    assert s[0] == 1.0 > s[1] > s[2] > s[3] >= 0.0


def test_signature_rejects_cycles_and_padding_edges():
    cyc = parents_from_edges(np.array([0, 1]), np.array([1, 0]), 3)
    with pytest.raises(ValueError, match="acyclic"):
        dag_signature(cyc, np.zeros(3, np.int64))
    pad = parents_from_edges(np.array([0]), np.array([2]), 3)
    with pytest.raises(ValueError, match="padding"):
        dag_signature(pad, np.zeros(3, np.int64), num_ms=2)
    with pytest.raises(ValueError, match="demand_tier"):
        dag_signature(pad, np.zeros(2, np.int64))
