"""The placements of a batch of dnn-inference requests, kept as arrays and written out as JSON.

Estimates are the env's own :class:`RequestOutcome` of each request alone on its pre-decision state
(the heuristic baseline's score): the background only, no other request of the slot and no instance
yet. For the slot's first agent that is exactly what the env's admission does; later agents in the env
also queue behind the requests accepted before them on the same server, and may share their model
instances.

Responses are written straight from the arrays into the JSON documents of
:class:`~edgeplace.serve.dnn_inference_schemas.DnnPlacement` (as the genai-chain placements are).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edgeplace.envs.dnn_inference.request_outcome import RequestOutcome
from edgeplace.serve.responses import PlacedBatch, rounded
from edgeplace.workloads.dnn_inference import MODELS, Service

#: The sub-action heads, in decision order: the keys of ``DnnCandidates``.
HEADS = ("configuration", "model", "server")


@dataclass(frozen=True)
class PlacedRequests(PlacedBatch):
    """The greedy action of each of B requests, its top-k candidates per head, and its estimates.

    Attributes:
        policy: name of the policy that placed them.
        agents: the requesting agent ids, (B,).
        service: each request's :class:`Service`, (B,) int64.
        actions: (B, 3) int64 (configuration, model, server).
        probability: the chosen action's probability under the policy, (B,).
        candidates, candidate_probability, listed: per head, (B, k_h) int64 / float64 / bool, best
            first; ``listed`` is False where the head allows fewer than k_h sub-actions.
        outcome: the estimates of the chosen actions, fields (B,).
        deadline_s: the requests' deadlines, (B,).
    """

    policy: str
    agents: list[str]
    service: np.ndarray
    actions: np.ndarray
    probability: np.ndarray
    candidates: tuple[np.ndarray, ...]
    candidate_probability: tuple[np.ndarray, ...]
    listed: tuple[np.ndarray, ...]
    outcome: RequestOutcome
    deadline_s: np.ndarray

    def documents(self) -> list[dict[str, Any]]:
        """One ``DnnPlacement`` document per request; floats rounded to :data:`DECIMALS` places."""
        out = self.outcome
        services = [Service(service) for service in self.service.tolist()]
        config, model, server = self.actions.T.tolist()
        columns: dict[str, list[Any]] = {
            "agent": self.agents,
            "service": [service.name.lower() for service in services],
            "configuration": config,
            "model": model,
            "model_name": [MODELS[s][j].name for s, j in zip(services, model, strict=True)],
            "server": server,
            "probability": rounded(self.probability),
            "candidates": self._candidate_lists(),
            "accepted": out.accepted.tolist(),
            "meets_deadline": out.meets_deadline.tolist(),
            "fits_memory": out.fits_memory.tolist(),
            "delay_s": rounded(out.delay_s),
            "deadline_s": rounded(self.deadline_s),
            "accuracy": rounded(out.accuracy),
            "accuracy_std": rounded(out.accuracy_std),
            "cost": rounded(out.cost),
            "memory_mb": rounded(out.memory_mb),
            "reward": rounded(out.reward),
        }
        return [
            {"policy": self.policy, **dict(zip(columns, row, strict=True))}
            for row in zip(*columns.values(), strict=True)
        ]

    def _candidate_lists(self) -> list[dict[str, list[dict[str, Any]]]]:
        """Per request, each head's listed candidates as ``DnnCandidate`` documents."""
        heads = [
            [
                [{"index": i, "probability": p} for i, p, shown in zip(*row, strict=True) if shown]
                for row in zip(index.tolist(), rounded(probability), listed.tolist(), strict=True)
            ]
            for index, probability, listed in zip(
                self.candidates, self.candidate_probability, self.listed, strict=True
            )
        ]
        return [dict(zip(HEADS, per_head, strict=True)) for per_head in zip(*heads, strict=True)]
