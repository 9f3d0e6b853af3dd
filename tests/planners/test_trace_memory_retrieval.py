"""S_j scoring and retrieval over the trace memory."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.planners.trace_memory import (
    KAPPA_RET,
    RetrievalQuery,
    TraceMemory,
    TraceMemoryError,
    placement_similarity,
    retrieve,
)
from edgeplace.planners.trace_memory.synthetic import SyntheticTraces


@pytest.fixture(scope="module")
def filled() -> tuple[SyntheticTraces, TraceMemory, np.ndarray]:
    gen = SyntheticTraces((6, 6, 6), 3, catalogues=2, clusters=8, seed=0)
    memory = TraceMemory(gen.layout, capacity=10_000, min_ivf=256)
    records = gen.sample(np.random.default_rng(0), 1500)
    memory.add(records)
    return gen, memory, records


def test_placement_similarity_by_hand():
    query = {
        "slot_class": np.array([0, 0, 1, -1]),
        "slot_replica": np.array([0, 1, 0, -1]),
        "role_tier": np.array([0, -1, 1, -1]),
        "role_zone": np.array([2, -1, 0, -1]),
    }
    cand = {name: np.stack([v, v]) for name, v in query.items()}
    cand["role_zone"][1, 0] = 1  # first slot on another zone
    cand["slot_class"][1, 3], cand["slot_replica"][1, 3] = 1, 1  # a slot the query lacks
    np.testing.assert_allclose(placement_similarity(query, cand), [1.0, 2 / 4])


def test_retrieve_scores_sorted_with_components(filled):
    gen, memory, records = filled
    query = RetrievalQuery.from_record(gen.sample(np.random.default_rng(1), 1)[0])
    result = retrieve(memory, query)
    assert result.ids.size == KAPPA_RET and result.records.shape == (KAPPA_RET,)
    assert np.all(np.diff(result.score) <= 0)
    np.testing.assert_allclose(result.score, 0.3 * result.s_dag + 0.2 * result.s_place + 0.5 * result.s_emb)
    np.testing.assert_allclose(result.s_emb, (1 + result.cosine) / 2)
    np.testing.assert_array_equal(result.records["trace_id"], result.ids)
    assert np.all(result.records["shard_zone"] == query.shard_key[0])
    assert np.all(result.records["catalogue_ms"] == query.shard_key[1])
    for part in (result.s_dag, result.s_place, result.s_emb):
        assert np.all((part >= 0) & (part <= 1))


def test_a_stored_trace_retrieves_itself_first(filled):
    _, memory, records = filled
    for row in (3, 700, 1499):
        result = retrieve(memory, RetrievalQuery.from_record(records[row]))
        assert result.ids[0] == row
        assert result.s_dag[0] == 1.0 and result.s_place[0] == 1.0
        assert result.s_emb[0] == pytest.approx(1.0, abs=1e-6)


def test_unknown_shard_and_bad_query(filled):
    gen, memory, records = filled
    query = RetrievalQuery.from_record(records[0])
    empty = retrieve(
        memory,
        RetrievalQuery(
            (2, 999),
            *(
                getattr(query, f)
                for f in ("q_ctx", "dag_sig", "slot_class", "slot_replica", "role_tier", "role_zone")
            ),
        ),
    )
    assert empty.ids.size == 0 and empty.records.shape == (0,)
    bad = RetrievalQuery(
        query.shard_key,
        query.q_ctx,
        query.dag_sig[:2],
        query.slot_class,
        query.slot_replica,
        query.role_tier,
        query.role_zone,
    )
    with pytest.raises(TraceMemoryError, match="field 'dag_sig'"):
        retrieve(memory, bad)
