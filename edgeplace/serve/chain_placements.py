"""The placements of a batch of genai-chain requests, kept as arrays and written out as JSON.

Responses are built straight from the arrays into the JSON documents of
:class:`~edgeplace.serve.schemas.ChainPlacement` (and ``ChainBatchPlacement``): building one
pydantic object per stage and candidate, then validating and dumping them again, cost more than the
policy's forward at concurrency 32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edgeplace.serve.responses import DECIMALS, PlacedBatch, rounded

#: A JSON document shaped as :class:`~edgeplace.serve.schemas.ChainPlacement`.
PlacementDocument = dict[str, Any]


@dataclass(frozen=True)
class PlacedChains(PlacedBatch):
    """Where each stage of B requests went, in request order, with the system model's estimates.

    Attributes:
        policy: name of the policy that placed them.
        instance, node: chosen model instance and its node per stage, (B, 5) int64.
        latency_s, utility: estimated stage latency (seconds) and utility, (B, 5) float64.
        candidates, candidate_node: the top-k allowed instances by probability, best first, and their
            nodes, (B, 5, k) int64.
        probability: their probabilities under the policy, (B, 5, k) float64.
        listed: (B, 5, k) bool; False where a stage had fewer than k allowed instances.
        deadline_s: the SLA deadline of each request (sum of its stage deadlines), (B,) float64.
    """

    policy: str
    instance: np.ndarray
    node: np.ndarray
    latency_s: np.ndarray
    utility: np.ndarray
    candidates: np.ndarray
    candidate_node: np.ndarray
    probability: np.ndarray
    listed: np.ndarray
    deadline_s: np.ndarray

    def __len__(self) -> int:
        return len(self.deadline_s)

    @property
    def total_latency_s(self) -> np.ndarray:
        """End-to-end estimated latency: the stage latencies added in stage order. Shapes: (B,)."""
        return np.cumsum(self.latency_s, axis=1)[:, -1]

    def documents(self) -> list[PlacementDocument]:
        """One ``ChainPlacement`` document per request; floats rounded to :data:`DECIMALS` places.

        The totals are those of the rounded stages for utility (as listed) and of the exact stages
        for latency; ``meets_sla`` compares the exact latency with the deadline.
        """
        latency_s, utility = np.round(self.latency_s, DECIMALS), np.round(self.utility, DECIMALS)
        total_latency_s = self.total_latency_s
        totals = zip(
            rounded(total_latency_s),
            rounded(self.deadline_s),
            (total_latency_s <= self.deadline_s).tolist(),
            rounded(np.cumsum(utility, axis=1)[:, -1]),
            strict=True,
        )
        stage_columns = zip(
            self.instance.tolist(),
            self.node.tolist(),
            latency_s.tolist(),
            utility.tolist(),
            self._candidate_lists(),
            strict=True,
        )
        return [
            {
                "policy": self.policy,
                "stages": [
                    {"instance": i, "node": n, "latency_s": t, "utility": u, "candidates": c}
                    for i, n, t, u, c in zip(*stages, strict=True)
                ],
                "latency_s": total,
                "deadline_s": deadline,
                "meets_sla": meets,
                "utility": total_utility,
            }
            for stages, (total, deadline, meets, total_utility) in zip(stage_columns, totals, strict=True)
        ]

    def _candidate_lists(self) -> list[list[list[dict[str, Any]]]]:
        """Per request and stage, the listed candidates as ``Candidate`` documents."""
        probability = rounded(self.probability)
        columns = zip(
            self.candidates.tolist(),
            self.candidate_node.tolist(),
            probability,
            self.listed.tolist(),
            strict=True,
        )
        return [
            [
                [
                    {"instance": i, "node": n, "probability": p}
                    for i, n, p, shown in zip(*candidates, strict=True)
                    if shown
                ]
                for candidates in zip(*stages, strict=True)
            ]
            for stages in columns
        ]
