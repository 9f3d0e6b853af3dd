"""The trace-memory entry (papers/llm-mappo.md, section d, "Memory entry"): one fixed-width numpy record per
agent per planning window.

A :class:`TraceLayout` fixes the padded sizes (classes C, slots S, DAG edges E, context width Q) and
yields the structured dtype; :func:`validate_traces` checks a batch field by field. Slots follow the env's
slot layout (class blocks, microservice-major, then replica); padding slots have ``slot_class = -1``.

Fields (shape per record; ``-1`` marks padding / NONE in the int8 fields):

=========================  =======  ======= ================================================================
field                      dtype    shape    content
=========================  =======  ======= ================================================================
trace_id                   int64    ()      assigned by the store on add (input value ignored)
timestamp_s                float64  ()      end of the window, on the caller's (simulated) clock, s
shard_zone                 int8     ()      majority zone of the region's ES (0 dense, 1 medium, 2 suburban)
catalogue_ms               int16    ()      catalogue size: microservices over all classes
agent_id, policy_id        int16    ()      edge controller and policy that produced the window
dag_sig                    uint16   (C, 36) per-class signature (:mod:`.signature`)
slot_class                 int8     (S,)    class of the slot, -1 padding
slot_replica               int8     (S,)    replica index, -1 padding
role_tier                  int8     (S,)    host tier: 0 ES, 1 EC, 2 cloud; -1 NONE (and padding)
role_zone                  int8     (S,)    host zone 0..2; -1 for NONE (and hosts without a zone)
zone_profile               float32  (3,)    share of the region's ES per zone, sums to 1
q_ctx                      float32  (Q,)    context embedding (Q = 64), not normalised
slot_quantile              float16  (S,)    topological quantile of the microservice, m / (M_c - 1)
role_capacity_q            float16  (S,)    host cpu capacity quantile in the region, [0, 1]
role_centroid_delay_ms     float16  (S,)    host delay to the region's load centroid, ms
role_free_cpu              float16  (S,)    host free cpu fraction, [0, 1]
slot_rho                   float16  (S,)    stage utilisation rho of the replica (mean over the window)
slot_sojourn_ms            float16  (S,)    stage sojourn W, ms
edge_class                 int8     (E,)    class of the DAG edge, -1 padding
edge_transfer_ms           float16  (E,)    mean transfer time T_ij, ms
kpis                       float32  (3,)    l_mean / l_max, violation share, mean cpu utilisation
utility                    float32  ()      realised U in [0, 1]
w                          float32  (4,)    objective weights (simplex)
psi                        float32  (3,)    penalty weights, [0, 1]
phi, r_hat                 float32  ()      cooperation bias and predicted utility, [0, 1]
=========================  =======  ======= ================================================================

``small`` (C 3, S 54, E 34) records are 1,525 bytes, ``paper`` (S 205, E 134) 4,241 bytes; the IVF index
adds Q * 4 + 8 bytes per trace (vector and id).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from edgeplace.planners.soft_plans.protocol import NUM_PENALTIES, NUM_WEIGHTS, Tier
from edgeplace.planners.trace_memory.errors import TraceMemoryError
from edgeplace.planners.trace_memory.signature import SIG_WIDTH
from edgeplace.workloads.metaverse_dag import max_edges

NUM_ZONES = 3
NUM_KPIS = 3
Q_DIM = 64
ROLE_NONE = -1
"""role_tier / role_zone of an unplaced (NONE) slot, and of padding."""


@dataclass(frozen=True)
class TraceLayout:
    """Padded sizes of a trace record.

    Args:
        num_classes: C, service classes.
        max_slots: S, placement slots (microservice x replica) over all classes.
        max_edges: E, DAG edges over all classes.
        q_dim: Q, width of q_ctx.
    """

    num_classes: int = 3
    max_slots: int = 54
    max_edges: int = 34
    q_dim: int = Q_DIM

    def __post_init__(self) -> None:
        for name in ("num_classes", "max_slots", "max_edges", "q_dim"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise TraceMemoryError(f"must be a positive int, got {value!r}", field=name)
        if self.num_classes > 127:
            raise TraceMemoryError(f"at most 127 classes (int8), got {self.num_classes}", field="num_classes")

    @classmethod
    def for_catalogue(cls, max_ms: tuple[int, ...], r_max: int) -> TraceLayout:
        """The layout of classes with at most ``max_ms`` microservices and ``r_max`` replicas each."""
        return cls(len(max_ms), int(sum(max_ms)) * r_max, int(sum(max_edges(m) for m in max_ms)))

    @classmethod
    def small(cls) -> TraceLayout:
        """`small`: 3 classes x 6 microservices x 3 replicas = 54 slots; 6 + 14 + 14 = 34 edges."""
        return cls(3, 54, max_edges(4) + 2 * max_edges(6))

    @classmethod
    def paper(cls) -> TraceLayout:
        """`paper`: microservices up to (6, 15, 20), R_max 5: 205 slots, 134 edges."""
        return cls.for_catalogue((6, 15, 20), 5)

    @property
    def dtype(self) -> np.dtype:
        """The packed structured dtype of one record."""
        c, s, e, q = self.num_classes, self.max_slots, self.max_edges, self.q_dim
        return np.dtype(
            [
                ("trace_id", np.int64),
                ("timestamp_s", np.float64),
                ("shard_zone", np.int8),
                ("catalogue_ms", np.int16),
                ("agent_id", np.int16),
                ("policy_id", np.int16),
                # The fields retrieval scores every candidate on, adjacent (fewer cache lines per fetch).
                ("dag_sig", np.uint16, (c, SIG_WIDTH)),
                ("slot_class", np.int8, (s,)),
                ("slot_replica", np.int8, (s,)),
                ("role_tier", np.int8, (s,)),
                ("role_zone", np.int8, (s,)),
                ("zone_profile", np.float32, (NUM_ZONES,)),
                ("q_ctx", np.float32, (q,)),
                ("slot_quantile", np.float16, (s,)),
                ("role_capacity_q", np.float16, (s,)),
                ("role_centroid_delay_ms", np.float16, (s,)),
                ("role_free_cpu", np.float16, (s,)),
                ("slot_rho", np.float16, (s,)),
                ("slot_sojourn_ms", np.float16, (s,)),
                ("edge_class", np.int8, (e,)),
                ("edge_transfer_ms", np.float16, (e,)),
                ("kpis", np.float32, (NUM_KPIS,)),
                ("utility", np.float32),
                ("w", np.float32, (NUM_WEIGHTS,)),
                ("psi", np.float32, (NUM_PENALTIES,)),
                ("phi", np.float32),
                ("r_hat", np.float32),
            ]
        )

    @property
    def record_bytes(self) -> int:
        """Bytes of one record."""
        return self.dtype.itemsize

    def empty(self, n: int) -> np.ndarray:
        """``n`` blank records: zeros, with every slot and edge marked padding (-1). Shapes: -> (n,)."""
        out = np.zeros(n, self.dtype)
        for name in ("slot_class", "slot_replica", "role_tier", "role_zone", "edge_class"):
            out[name] = -1
        return out

    def from_columns(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Records from per-field arrays with a leading batch axis; missing fields raise, except
        ``trace_id`` (the store assigns it). Shapes: each column (n, *field shape) -> (n,)."""
        dtype = self.dtype
        unknown = sorted(set(columns) - set(dtype.names))
        if unknown:
            raise TraceMemoryError(f"unknown trace field(s) {unknown}", field=unknown[0])
        lengths = {name: np.shape(value)[0] if np.ndim(value) else None for name, value in columns.items()}
        n = next((v for v in lengths.values() if v is not None), 0)
        out = self.empty(n)
        for name in dtype.names:
            if name not in columns:
                if name == "trace_id":
                    continue
                raise TraceMemoryError("missing", field=name)
            value = np.asarray(columns[name])
            want = (n, *dtype[name].shape)
            if value.shape != want:
                raise TraceMemoryError(f"expected shape {want}, got {value.shape}", field=name)
            out[name] = value
        return out


_UNIT_FIELDS = ("zone_profile", "role_capacity_q", "role_free_cpu", "utility", "w", "psi", "phi", "r_hat")
_NON_NEGATIVE_FIELDS = (
    "slot_quantile",
    "role_centroid_delay_ms",
    "slot_rho",
    "slot_sojourn_ms",
    "edge_transfer_ms",
    "kpis",
)


def _fail_rows(bad: np.ndarray, field: str, what: str) -> None:
    """Raise naming ``field`` and the first bad rows if any record is ``bad``. Shapes: bad (n, ...)."""
    rows = np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))
    if rows.size:
        raise TraceMemoryError(f"{what} (rows {rows[:5].tolist()})", field=field)


def validate_traces(layout: TraceLayout, batch: np.ndarray) -> None:
    """Check a batch of records against ``layout``; raise :class:`TraceMemoryError` naming the field.

    Checks: the dtype (each field's name, dtype and shape), finite floats, ranges, simplex ``w`` and
    ``zone_profile``, a non-zero ``q_ctx``, and consistency of padding and NONE roles.

    Shapes: batch (n,) of ``layout.dtype``.
    """
    batch = np.asarray(batch)
    want = layout.dtype
    if batch.dtype.names is None:
        raise TraceMemoryError(f"expected structured records, got dtype {batch.dtype}", field="batch")
    for name in want.names:
        if name not in batch.dtype.names:
            raise TraceMemoryError("missing", field=name)
        if batch.dtype[name] != want[name]:
            raise TraceMemoryError(f"expected {want[name]}, got {batch.dtype[name]}", field=name)
    extra = [name for name in batch.dtype.names if name not in want.names]
    if extra:
        raise TraceMemoryError("unknown trace field", field=extra[0])
    if batch.ndim != 1:
        raise TraceMemoryError(f"expected a 1-D batch of records, got shape {batch.shape}", field="batch")
    if batch.size == 0:
        return
    for name in want.names:
        if np.issubdtype(want[name].base, np.floating):
            _fail_rows(~np.isfinite(batch[name]), name, "NaN or infinite values")
    for name in _UNIT_FIELDS:
        value = batch[name]
        _fail_rows((value < 0) | (value > 1), name, "values outside [0, 1]")
    for name in _NON_NEGATIVE_FIELDS:
        _fail_rows(batch[name] < 0, name, "negative values")
    for name in ("w", "zone_profile"):
        _fail_rows(np.abs(batch[name].sum(axis=1) - 1.0) > 1e-3, name, "does not sum to 1")
    _fail_rows(np.linalg.norm(batch["q_ctx"], axis=1) == 0, "q_ctx", "zero vector (no direction)")
    _fail_rows((batch["shard_zone"] < 0) | (batch["shard_zone"] >= NUM_ZONES), "shard_zone", "not in 0..2")
    _fail_rows(batch["catalogue_ms"] < 1, "catalogue_ms", "must be >= 1")
    for name in ("agent_id", "policy_id"):
        _fail_rows(batch[name] < 0, name, "must be >= 0")
    c = layout.num_classes
    for name in ("slot_class", "edge_class"):
        _fail_rows((batch[name] < -1) | (batch[name] >= c), name, f"not in -1..{c - 1}")
    _fail_rows(batch["slot_quantile"] > 1, "slot_quantile", "values above 1")
    pad = batch["slot_class"] < 0
    _fail_rows(pad != (batch["slot_replica"] < 0), "slot_replica", "-1 exactly on padding slots")
    tier, zone = batch["role_tier"], batch["role_zone"]
    _fail_rows((tier < ROLE_NONE) | (tier > Tier.CLOUD), "role_tier", "not in -1..2")
    _fail_rows((zone < ROLE_NONE) | (zone >= NUM_ZONES), "role_zone", "not in -1..2")
    _fail_rows(pad & (tier != ROLE_NONE), "role_tier", "padding slots must be NONE (-1)")
    _fail_rows((tier == ROLE_NONE) & (zone != ROLE_NONE), "role_zone", "NONE roles must have zone -1")
