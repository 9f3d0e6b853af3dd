"""Every request of an episode, one row each: what arrived, where it went and how it ended.

Rows are the nonzero (slot, origin, LM) entries of the workload in that order, so request ids are
known before the episode runs; the simulator fills destination, transfer times and outcome as the
request is routed and resolved. These records feed the KPIs, rewards and telemetry.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Outcome(IntEnum):
    """How a request ended."""

    UNRESOLVED = 0
    """Not routed yet, or still in transit, queued or in service."""
    SUCCESS = 1
    """Its result was back at the origin by arrival + tau."""
    EXPIRED = 2
    """It missed the deadline (dropped from the queue or from service)."""
    INFEASIBLE = 3
    """Routed to a node that can never host its LM: failed at once."""


class RequestLog:
    """Struct of arrays over the R requests of an episode.

    Shapes (R requests; times in s from the episode start):
        slot, origin, lm, prompts: (R,) int64, from the workload.
        dest: (R,) int64, -1 until routed.
        upload_s, download_s: (R,) transfer times X_up, X_down (0 when local).
        outcome: (R,) int8 :class:`Outcome`.
        resolved_s: (R,) when the request resolved: result back at the origin (success) or the
            failure instant; NaN while unresolved.
        service_s: (R,) time spent in service, lost partial prompts included.
    """

    def __init__(self, prompts: np.ndarray) -> None:
        """Shapes: prompts (T, N, I) int64 K per (slot, origin, LM), 0 = no request."""
        slot, origin, lm = np.nonzero(prompts)
        self.slot, self.origin, self.lm = slot.astype(np.int64), origin.astype(np.int64), lm.astype(np.int64)
        self.prompts = prompts[slot, origin, lm].astype(np.int64)
        size = self.slot.size
        self.dest = np.full(size, -1, dtype=np.int64)
        self.upload_s = np.zeros(size)
        self.download_s = np.zeros(size)
        self.outcome = np.zeros(size, dtype=np.int8)
        self.resolved_s = np.full(size, np.nan)
        self.service_s = np.zeros(size)
        self.slot_start = np.searchsorted(self.slot, np.arange(prompts.shape[0] + 1)).astype(np.int64)
        """(T + 1,): requests of slot t are ids ``slot_start[t]:slot_start[t + 1]``."""

    def latency_s(self, slot_s: float) -> np.ndarray:
        """T_q = resolution - arrival of each success, NaN otherwise. Shapes: (R,)."""
        latency = self.resolved_s - self.slot * slot_s
        return np.where(self.outcome == Outcome.SUCCESS, latency, np.nan)
