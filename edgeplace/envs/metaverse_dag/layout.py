"""The slot and DAG-edge layout of the metaverse-dag scenario: which (class, microservice, replica) each
placement slot is and which (class, edge) each route entry is, fixed per env config so the action and
observation spaces never change; and the split patterns of section c."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.workloads.metaverse_dag import NUM_CLASSES, DagTemplates, max_edges

PATTERNS = np.array(
    [
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [0.5, 0.5, 0.0],
        [0.5, 0.0, 0.5],
        [0.0, 0.5, 0.5],
        [1 / 3, 1 / 3, 1 / 3],
    ]
)
"""The 7 split patterns over the path ranks (1, 2, 3)."""
NUM_PATTERNS = PATTERNS.shape[0]


@dataclass(frozen=True, eq=False)
class SlotLayout:
    """Class blocks of slots (microservice-major, then replica) and of DAG edges, padded to the most
    microservices (and edges) each class can have.

    Shapes (S slots, E edges, C classes):
        slot_class, slot_ms, slot_rep: (S,) int64.
        edge_class: (E,) int64; edge_start: (C + 1,) first edge of each class block.
    """

    max_ms: tuple[int, ...]
    r_max: int
    slot_class: np.ndarray
    slot_ms: np.ndarray
    slot_rep: np.ndarray
    edge_class: np.ndarray
    edge_start: np.ndarray

    @classmethod
    def of(cls, max_ms: tuple[int, ...], r_max: int) -> SlotLayout:
        """The layout of classes with at most ``max_ms`` microservices and ``r_max`` replicas each."""
        cls_ids = np.arange(NUM_CLASSES)
        counts = np.array(max_ms) * r_max
        slot_class = np.repeat(cls_ids, counts)
        slot_ms = np.concatenate([np.repeat(np.arange(m), r_max) for m in max_ms])
        slot_rep = np.concatenate([np.tile(np.arange(r_max), m) for m in max_ms])
        edge_counts = np.array([max_edges(m) for m in max_ms])
        edge_start = np.concatenate([[0], np.cumsum(edge_counts)])
        return cls(
            tuple(max_ms), r_max, slot_class, slot_ms, slot_rep, np.repeat(cls_ids, edge_counts), edge_start
        )

    @property
    def num_slots(self) -> int:
        return int(self.slot_class.size)

    @property
    def num_edges(self) -> int:
        return int(self.edge_class.size)

    @property
    def padded_ms(self) -> int:
        """M, microservices per class in the dense (C, M, R) arrays."""
        return max(self.max_ms)

    def slot_valid(self, templates: DagTemplates) -> np.ndarray:
        """Slots of the episode's real microservices. Shapes: -> (S,) bool."""
        return self.slot_ms < templates.num_ms[self.slot_class]

    def edges(self, templates: DagTemplates) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(source ms, destination ms, valid) of every route entry for the episode's templates; padding
        entries are (0, 0, False). Shapes: -> (E,), (E,), (E,) bool."""
        src, dst = np.zeros(self.num_edges, np.int64), np.zeros(self.num_edges, np.int64)
        valid = np.zeros(self.num_edges, bool)
        for c in range(NUM_CLASSES):
            s, d = templates.edges(c)
            start = self.edge_start[c]
            src[start : start + s.size], dst[start : start + s.size] = s, d
            valid[start : start + s.size] = True
        return src, dst, valid

    def dense(self, per_slot: np.ndarray, fill: float | int = 0) -> np.ndarray:
        """Slot values as (..., C, M, R) arrays, ``fill`` on padding. Shapes: (..., S) -> (..., C, M, R)."""
        out = np.full((*per_slot.shape[:-1], NUM_CLASSES, self.padded_ms, self.r_max), fill, per_slot.dtype)
        out[..., self.slot_class, self.slot_ms, self.slot_rep] = per_slot
        return out

    def per_slot(self, dense: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`dense`. Shapes: (..., C, M, R) -> (..., S)."""
        return dense[..., self.slot_class, self.slot_ms, self.slot_rep]
