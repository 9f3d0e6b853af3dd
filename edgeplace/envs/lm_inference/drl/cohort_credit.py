"""Eq. 20 per cohort, delivered at resolution time (spec e, "Hierarchical DRL", training reward).

The cohort of slot t is the requests arriving in t. Once every one of them has resolved (success or
failure), its Eq. 20 reward r_t = 1 - J is paid out, once, at the end of the slot in which that
happened; several cohorts resolving in one slot add up. A cohort without requests resolves in its own
slot. Cohorts still unresolved when the episode ends are never paid (nothing resolved them).
"""

from __future__ import annotations

import numpy as np

from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.request_log import Outcome, RequestLog
from edgeplace.envs.lm_inference.rewards import cohort_rewards


class CohortCredit:
    """Tracks which cohorts of one episode have been paid.

    Shapes: ``paid`` (T,) bool per slot's cohort; ``rewards`` (T,) float64, Eq. 20 of each paid cohort
    (NaN while unpaid).
    """

    def __init__(self, log: RequestLog, params: LmInferenceParams) -> None:
        self.log, self.params = log, params
        slots = log.slot_start.size - 1
        self.paid = np.zeros(slots, dtype=bool)
        self.rewards = np.full(slots, np.nan)

    def settle(self, end_slot: int) -> float:
        """Pay every unpaid cohort of slots [0, end_slot) that has fully resolved; returns the sum of
        their Eq. 20 rewards (0 when none)."""
        unresolved = self.log.outcome == Outcome.UNRESOLVED
        total = 0.0
        for t in np.flatnonzero(~self.paid[:end_slot]).tolist():
            start, stop = self.log.slot_start[t], self.log.slot_start[t + 1]
            if unresolved[start:stop].any():
                continue
            self.paid[t] = True
            self.rewards[t] = cohort_rewards(self.log, t, t + 1, self.params)[0]
            total += self.rewards[t]
        return total
