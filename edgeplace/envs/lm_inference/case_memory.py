"""The episodic case memory (spec d, "Episodic case memory"): one case per finished epoch, retrieved by
the similarity of its context to the current one.

- A case holds the epoch's features (:meth:`EpochSummary.case_features`: rho, T-bar, F_norm,
  T-bar_norm, J, demand and the plan's weights), its objective J and a context key (request rates,
  mean K, node availability).
- Capacity 256: past it, the oldest case outside the 16 best by J is dropped.
- Retrieval keeps the cases whose context has cosine similarity >= 0.95 with the query (the 5 nearest
  if fewer pass) and returns, in fixed slots, the 3 best by J, the worst (a negative precedent) and
  the most recent; slots without a case are marked invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RETRIEVED = 5
"""Slots of a retrieval: best, second, third, worst, most recent."""


@dataclass(frozen=True, eq=False)
class Case:
    """One epoch. Shapes: features (F,), context (C,)."""

    features: np.ndarray
    context: np.ndarray
    objective: float
    epoch: int


class CaseMemory:
    """See the module docstring."""

    def __init__(
        self, capacity: int = 256, keep_best: int = 16, similarity: float = 0.95, min_similar: int = 5
    ) -> None:
        if not 0 <= keep_best < capacity:
            raise ValueError(f"CaseMemory: need 0 <= keep_best < capacity, got {keep_best}, {capacity}")
        self.capacity, self.keep_best = capacity, keep_best
        self.similarity, self.min_similar = similarity, min_similar
        self.cases: list[Case] = []

    def add(self, case: Case) -> None:
        """Store ``case``, evicting the oldest case outside the best ``keep_best`` when full."""
        self.cases.append(case)
        if len(self.cases) > self.capacity:
            objectives = np.array([c.objective for c in self.cases])
            best = set(np.argsort(objectives, kind="stable")[: self.keep_best].tolist())
            oldest = next(i for i in range(len(self.cases)) if i not in best)
            del self.cases[oldest]

    def retrieve(self, context: np.ndarray) -> list[Case | None]:
        """The :data:`RETRIEVED` slots for a query context (None where the memory has no case)."""
        if not self.cases:
            return [None] * RETRIEVED
        contexts = np.stack([c.context for c in self.cases])
        norms = np.linalg.norm(contexts, axis=1) * np.linalg.norm(context)
        cosine = np.divide(contexts @ context, norms, out=np.zeros(len(self.cases)), where=norms > 0)
        similar = np.flatnonzero(cosine >= self.similarity)
        if similar.size < self.min_similar:
            similar = np.argsort(-cosine, kind="stable")[: self.min_similar]
        pool = [self.cases[i] for i in similar]
        by_objective = sorted(pool, key=lambda c: c.objective)
        best = by_objective[:3] + [None] * (3 - min(3, len(pool)))
        return [*best, by_objective[-1], max(pool, key=lambda c: c.epoch)]
