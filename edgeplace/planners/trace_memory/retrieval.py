"""The non-learned part of TopoRAG retrieval (papers/llm-mappo.md, section d, "Retrieval"):
S_j = .3 S_dag + .2 S_place + .5 S_emb over the index's top 64, keeping kappa_ret = 8.

* S_dag: :func:`.signature.dag_similarity` of the per-class signatures.
* S_place: share of slots whose roles match. Slots are compared position by position (traces of one shard
  share the slot layout); the share is over the slots real in the query or the candidate, and a slot
  matches when both have it with the same class and replica index and the same role tier and zone
  (NONE = NONE matches). No real slot on either side gives 0.
* S_emb = (1 + cos) / 2, cos from the index.

Pruning and GNN re-ranking (Eq. 1-2) are the torch scorer's job; it reads :class:`RetrievalResult`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.planners.trace_memory.errors import TraceMemoryError
from edgeplace.planners.trace_memory.signature import SIG_WIDTH, dag_similarity
from edgeplace.planners.trace_memory.store import ShardKey, TraceMemory

W_DAG, W_PLACE, W_EMB = 0.3, 0.2, 0.5
TOP_K = 64
"""Candidates taken from the index."""
KAPPA_RET = 8
"""Traces kept after S_j."""
_SCORED_FIELDS = ("dag_sig", "slot_class", "slot_replica", "role_tier", "role_zone")


@dataclass(frozen=True)
class RetrievalQuery:
    """What retrieval compares a trace with: the current context, catalogue and placement.

    Shapes (C classes, S slots, Q context width), dtypes as the record fields:
        shard_key: (majority zone, catalogue size).
        q_ctx: (Q,) float32.
        dag_sig: (C, SIG_WIDTH) uint16.
        slot_class, slot_replica, role_tier, role_zone: (S,) int8, -1 on padding (and NONE roles).
    """

    shard_key: ShardKey
    q_ctx: np.ndarray
    dag_sig: np.ndarray
    slot_class: np.ndarray
    slot_replica: np.ndarray
    role_tier: np.ndarray
    role_zone: np.ndarray

    @classmethod
    def from_record(cls, record: np.void) -> RetrievalQuery:
        """The query a stored trace makes (its shard, context, catalogue and placement)."""
        return cls(
            (int(record["shard_zone"]), int(record["catalogue_ms"])),
            *(np.array(record[name]) for name in ("q_ctx", *_SCORED_FIELDS)),
        )

    def check(self, memory: TraceMemory) -> None:
        """Raise :class:`TraceMemoryError` naming the first field whose shape does not fit ``memory``."""
        layout = memory.layout
        shapes = {
            "q_ctx": (layout.q_dim,),
            "dag_sig": (layout.num_classes, SIG_WIDTH),
            **dict.fromkeys(("slot_class", "slot_replica", "role_tier", "role_zone"), (layout.max_slots,)),
        }
        for name, shape in shapes.items():
            value = np.asarray(getattr(self, name))
            if value.shape != shape:
                raise TraceMemoryError(f"expected shape {shape}, got {value.shape}", field=name)
            if not np.all(np.isfinite(value)):
                raise TraceMemoryError("NaN or infinite values", field=name)


@dataclass(frozen=True)
class RetrievalResult:
    """The kept traces, best S_j first, with the score's components.

    Shapes (k <= KAPPA_RET): ids (k,) int64; score, s_dag, s_place, s_emb, cosine (k,) float64;
    records (k,) of the memory's record dtype.
    """

    ids: np.ndarray
    score: np.ndarray
    s_dag: np.ndarray
    s_place: np.ndarray
    s_emb: np.ndarray
    cosine: np.ndarray
    records: np.ndarray


def placement_similarity(query: dict[str, np.ndarray], candidates: dict[str, np.ndarray]) -> np.ndarray:
    """S_place of each candidate (see the module docstring).

    Shapes: query fields slot_class, slot_replica, role_tier, role_zone (S,); candidate fields (K, S)
        -> (K,) float64.
    """
    q_real = query["slot_class"] >= 0  # (S,)
    c_real = candidates["slot_class"] >= 0  # (K, S)
    match = q_real & c_real
    for name in ("slot_class", "slot_replica", "role_tier", "role_zone"):
        match &= candidates[name] == query[name]
    union = (q_real | c_real).sum(axis=1)
    return np.where(union > 0, match.sum(axis=1) / np.maximum(union, 1), 0.0)


def score_candidates(
    query: RetrievalQuery, cosine: np.ndarray, candidates: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(S_j, S_dag, S_place, S_emb) of K candidates.

    Shapes: cosine (K,); candidates: dag_sig (K, C, SIG_WIDTH), slot fields (K, S) -> 4 x (K,) float64.
    """
    s_dag = dag_similarity(query.dag_sig, candidates["dag_sig"])
    fields = {name: np.asarray(getattr(query, name)) for name in _SCORED_FIELDS[1:]}
    s_place = placement_similarity(fields, candidates)
    s_emb = (1.0 + np.clip(cosine.astype(np.float64), -1.0, 1.0)) / 2.0
    return W_DAG * s_dag + W_PLACE * s_place + W_EMB * s_emb, s_dag, s_place, s_emb


def retrieve(
    memory: TraceMemory, query: RetrievalQuery, k: int = TOP_K, keep: int = KAPPA_RET
) -> RetrievalResult:
    """Index search (top ``k`` by cosine in the query's shard), S_j scoring, and the ``keep`` best records.

    Ties in S_j keep the index order (higher cosine first). An unknown shard gives an empty result.
    """
    query.check(memory)
    ids, cosine = memory.search(query.shard_key, query.q_ctx, k)
    candidates = memory.get_columns(ids, _SCORED_FIELDS)
    score, s_dag, s_place, s_emb = score_candidates(query, cosine, candidates)
    best = np.argsort(-score, kind="stable")[:keep]
    return RetrievalResult(
        ids[best],
        score[best],
        s_dag[best],
        s_place[best],
        s_emb[best],
        cosine[best].astype(np.float64),
        memory.get(ids[best]),
    )
