"""The placements of a batch of dnn-inference requests: the system model's estimates for actions on the
slot state (:class:`AloneOutcome`) and the response JSON (:class:`PlacedRequests`).

Estimates use the env's own vectorised system model (:func:`request_terms` and
:meth:`ServerLoad.evaluate`, as the heuristic baseline does) on each request's pre-decision state:
the background only, no other request of the slot and no instance yet. For the slot's first agent
that is exactly what the env's admission does; later agents in the env also queue behind the
requests accepted before them on the same server, and may share their model instances.

Responses are written straight from the arrays into the JSON documents of
:class:`~edgeplace.serve.dnn_inference_schemas.DnnPlacement` (as the genai-chain placements are).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pydantic_core

from edgeplace.algos.baselines.dnn_inference import DecodedRequests
from edgeplace.envs.dnn_inference.network import ServerNetwork
from edgeplace.envs.dnn_inference.params import DnnInferenceParams
from edgeplace.envs.dnn_inference.system_model import ServerLoad, request_terms
from edgeplace.serve.responses import rounded
from edgeplace.workloads.dnn_inference import MODELS, SERVICE_TABLES, Service

#: The sub-action heads, in decision order: the keys of ``DnnCandidates``.
HEADS = ("configuration", "model", "server")


@dataclass(frozen=True)
class AloneOutcome:
    """What the env's admission does with actions of requests placed alone on their slot state.

    Shapes: every field has the broadcast shape of :meth:`evaluate`'s actions, (B, ...).
        accepted, meets_deadline, fits_memory: bool; constraints (14) and (15), and both.
        delay_s: Eq. 6's d_u, s. accuracy: Phi; accuracy_std: Eq. 19's standardised Phi (NaN for a
        padded model slot). cost: routing + compute + data memory + the new instance's memory, $, 0
        when rejected. memory_mb: data + model instance, MB. reward: the request's own reward term,
        accuracy_std (or the rejection penalty) - delay - cost.
    """

    accepted: np.ndarray
    meets_deadline: np.ndarray
    fits_memory: np.ndarray
    delay_s: np.ndarray
    accuracy: np.ndarray
    accuracy_std: np.ndarray
    cost: np.ndarray
    memory_mb: np.ndarray
    reward: np.ndarray

    @classmethod
    def evaluate(
        cls,
        network: ServerNetwork,
        params: DnnInferenceParams,
        requests: DecodedRequests,
        config: np.ndarray,
        model: np.ndarray,
        server: np.ndarray,
    ) -> AloneOutcome:
        """The outcome of actions (configuration, model, server) of B requests, each on its own state.

        Shapes: request fields (B,), background (B, V); config, model, server broadcast to (B, ...):
        (B,) for one action per request, or e.g. (1, C, 1, 1), (1, 1, M, 1), (1, 1, 1, V) for every
        action of every request.
        """
        trailing = (1,) * (max(np.ndim(config), np.ndim(model), np.ndim(server)) - 1)

        def column(values: np.ndarray) -> np.ndarray:
            return np.reshape(values, (-1, *trailing))  # (B, 1, ...): broadcasts against the actions

        service, deadline_s = column(requests.service), column(requests.deadline_s)
        rows = column(np.arange(len(requests.service)))
        terms = request_terms(
            network, params, service, column(requests.local), column(requests.data_mb), config, model, server
        )
        load = ServerLoad.background(requests.background_tflop, requests.background_memory_mb)
        delay, accepted, new = load.evaluate(network, terms, rows, service, model, server, deadline_s)
        _, fits_memory, _ = load.evaluate(network, terms, rows, service, model, server, np.inf)
        instance_mb = np.where(new, terms.instance_mb, 0.0)
        cost = np.where(accepted, terms.request_cost + params.memory_price_per_mb * instance_mb, 0.0)
        accuracy_term = np.where(accepted, terms.accuracy_std, params.rejection_accuracy)
        return cls(
            accepted=accepted,
            meets_deadline=delay <= deadline_s,
            fits_memory=fits_memory,
            delay_s=delay,
            accuracy=SERVICE_TABLES.accuracy[service, config, model],
            accuracy_std=terms.accuracy_std,
            cost=cost,
            memory_mb=terms.data_mb + instance_mb,
            reward=accuracy_term - delay - cost,
        )


@dataclass(frozen=True)
class PlacedRequests:
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
    outcome: AloneOutcome
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

    def json_documents(self) -> list[bytes]:
        """:meth:`documents` as UTF-8 JSON, one per request."""
        return [pydantic_core.to_json(document) for document in self.documents()]

    def batch_json(self) -> bytes:
        """The ``DnnBatchPlacement`` JSON of the whole batch."""
        return pydantic_core.to_json({"policy": self.policy, "placements": self.documents()})
