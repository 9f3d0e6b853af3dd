"""Batches of the ``memory`` planner's scorer inputs: per query the retrieved traces padded to
kappa_ret, their scorer inputs and KPIs, stacked over queries (numpy; the scorer converts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgeplace.planners.soft_plans.memory_inputs import trace_inputs
from edgeplace.planners.trace_memory import KAPPA_RET, TraceMemory


@dataclass(frozen=True)
class Retrieved:
    """One query's retrieved traces, best first. Shapes: ids, s_j, age (J,); records (J,)."""

    ids: np.ndarray
    s_j: np.ndarray
    age: np.ndarray
    records: np.ndarray


def padded(memory: TraceMemory, retrieved: Retrieved, width: int = KAPPA_RET) -> tuple[np.ndarray, ...]:
    """(records, s_j, age, valid) padded to ``width`` traces (blank records, invalid)."""
    n = min(len(retrieved.ids), width)
    records = memory.layout.empty(width)
    records[:n] = retrieved.records[:n]
    s_j, age, valid = np.zeros(width), np.zeros(width), np.zeros(width, bool)
    s_j[:n], age[:n], valid[:n] = retrieved.s_j[:n], retrieved.age[:n], True
    return records, s_j, age, valid


def trace_batch(
    memory: TraceMemory, graphs: Sequence[dict[str, np.ndarray]], retrieved: Sequence[Retrieved], r_max: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The scorer's trace inputs and the traces' KPIs for B queries.

    Shapes: -> {key: (B, ...)} (:class:`edgeplace.models.toporag.TraceInputs`), kpis (B, J, 3).
    """
    rows, kpis = [], []
    for graph, found in zip(graphs, retrieved, strict=True):
        records, s_j, age, valid = padded(memory, found)
        inputs = trace_inputs(graph, records, age, s_j, r_max)
        inputs["trace_valid"] = valid
        rows.append(inputs)
        kpis.append(np.where(valid[:, None], records["kpis"], 0.0))
    return {key: np.stack([row[key] for row in rows]) for key in rows[0]}, np.stack(kpis)


def stacked(rows: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-query dicts stacked on a leading axis."""
    return {key: np.stack([np.asarray(row[key]) for row in rows]) for key in rows[0]}
