"""The episodic case memory (spec d): retrieval by context similarity into fixed slots (3 best by J,
the worst, the most recent), and eviction that keeps the best cases."""

from __future__ import annotations

import numpy as np

from edgeplace.envs.lm_inference.case_memory import RETRIEVED, Case, CaseMemory

NEAR, FAR = np.array([1.0, 0.0]), np.array([0.0, 1.0])


def case(objective: float, epoch: int, context: np.ndarray = NEAR) -> Case:
    return Case(np.full(3, objective), context, objective, epoch)


def test_retrieval_fills_best_three_worst_and_most_recent_among_similar_contexts():
    memory = CaseMemory(min_similar=2)
    for epoch, objective in enumerate([0.5, 0.2, 0.9, 0.4, 0.3]):
        memory.add(case(objective, epoch))
    memory.add(case(0.05, 5, FAR))  # dissimilar: left out while enough similar cases exist
    slots = memory.retrieve(NEAR)
    assert len(slots) == RETRIEVED
    assert [c.objective for c in slots] == [0.2, 0.3, 0.4, 0.9, 0.3]  # best 3, worst, most recent (epoch 4)


def test_with_too_few_similar_cases_the_nearest_are_used_and_empty_slots_stay_none():
    memory = CaseMemory()
    assert memory.retrieve(NEAR) == [None] * RETRIEVED
    memory.add(case(0.7, 0, FAR))
    slots = memory.retrieve(NEAR)
    assert [s.objective if s else None for s in slots] == [0.7, None, None, 0.7, 0.7]


def test_eviction_drops_the_oldest_case_outside_the_best():
    memory = CaseMemory(capacity=4, keep_best=2)
    for epoch, objective in enumerate([0.1, 0.9, 0.2, 0.8, 0.7]):
        memory.add(case(objective, epoch))
    assert [c.epoch for c in memory.cases] == [0, 2, 3, 4]  # epoch 1 (J 0.9) was the oldest non-best
    memory.add(case(0.05, 5))
    assert [c.epoch for c in memory.cases] == [0, 3, 4, 5]  # epoch 2 (J 0.2) fell out of the best 2
