"""TopoRAG trace memory of the metaverse-dag planner (papers/llm-mappo.md, section d): fixed-width trace
records, per-class DAG signatures, a store sharded by (majority zone, catalogue size) with one faiss index
per shard, and the non-learned retrieval score S_j.

Uses numpy and faiss only (no torch, no envs); the learned scorer (context encoder, pruning, re-ranking)
reads :class:`TraceMemory` and :class:`RetrievalResult`.
"""

from edgeplace.planners.trace_memory.errors import TraceMemoryError
from edgeplace.planners.trace_memory.retrieval import (
    KAPPA_RET,
    TOP_K,
    RetrievalQuery,
    RetrievalResult,
    placement_similarity,
    retrieve,
    score_candidates,
)
from edgeplace.planners.trace_memory.shard_index import ShardIndex
from edgeplace.planners.trace_memory.signature import (
    SIG_WIDTH,
    WL_BINS,
    SigColumn,
    dag_signature,
    dag_similarity,
    parents_from_edges,
)
from edgeplace.planners.trace_memory.store import CAPACITY, ShardKey, TraceMemory
from edgeplace.planners.trace_memory.trace import ROLE_NONE, Tier, TraceLayout, validate_traces

__all__ = [
    "CAPACITY",
    "KAPPA_RET",
    "ROLE_NONE",
    "SIG_WIDTH",
    "TOP_K",
    "WL_BINS",
    "RetrievalQuery",
    "RetrievalResult",
    "ShardIndex",
    "ShardKey",
    "SigColumn",
    "Tier",
    "TraceLayout",
    "TraceMemory",
    "TraceMemoryError",
    "dag_signature",
    "dag_similarity",
    "parents_from_edges",
    "placement_similarity",
    "retrieve",
    "score_candidates",
    "validate_traces",
]
