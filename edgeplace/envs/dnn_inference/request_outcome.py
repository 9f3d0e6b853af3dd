"""What the slot's admission does with one request placed on a given server state, and the request's
own reward term: the score of the heuristic baselines and the estimates Serve reports (spec:
papers/hisper.md, sections b and g).

The state is a :class:`ServerLoad` row per request: the slot's background only (Serve, the heuristic)
or what earlier requests of the slot left there (the greedy-sequential baseline). For the slot's first
request this is exactly :func:`admit_slot`'s outcome; the cost counts a new instance's full memory
price (:func:`admit_slot` shares it among the requests that use the instance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.dnn_inference.network import ServerNetwork
from edgeplace.envs.dnn_inference.params import DnnInferenceParams
from edgeplace.envs.dnn_inference.request_batch import RequestBatch
from edgeplace.envs.dnn_inference.system_model import RequestTerms, ServerLoad, request_terms
from edgeplace.workloads.dnn_inference import SERVICE_TABLES


@dataclass(frozen=True)
class RequestOutcome:
    """The admission of actions (configuration, model, server) of B requests, each on its load row.

    Shapes: every array has the broadcast shape of :meth:`evaluate`'s actions, (B, ...).
        accepted, meets_deadline, fits_memory: bool; constraints (14) and (15), and both.
        delay_s: Eq. 6's d_u, s. accuracy: Phi; accuracy_std: Eq. 19's standardised Phi (NaN for a
        padded model slot). cost: routing + compute + data memory + the new instance's memory, $, 0
        when rejected. memory_mb: data + new model instance, MB. reward: the request's own reward
        term, accuracy_std (or the rejection penalty) - delay - cost.
        terms: the request terms of the actions (for :meth:`ServerLoad.commit`).
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
    terms: RequestTerms

    @classmethod
    def evaluate(
        cls,
        network: ServerNetwork,
        params: DnnInferenceParams,
        load: ServerLoad,
        rows: np.ndarray,
        requests: RequestBatch,
        config: np.ndarray,
        model: np.ndarray,
        server: np.ndarray,
    ) -> RequestOutcome:
        """The outcome of request b's actions on load row ``rows[b]``.

        Shapes: rows and request fields (B,); config, model, server broadcast to (B, ...): (B,) for one
        action per request, or e.g. (1, C, 1, 1), (1, 1, M, 1), (1, 1, 1, V) for every action of every
        request.
        """
        trailing = (1,) * (max(np.ndim(config), np.ndim(model), np.ndim(server)) - 1)

        def column(values: np.ndarray) -> np.ndarray:
            return np.reshape(values, (-1, *trailing))  # (B, 1, ...): broadcasts against the actions

        service, deadline_s = column(requests.service), column(requests.deadline_s)
        terms = request_terms(
            network, params, service, column(requests.local), column(requests.data_mb), config, model, server
        )
        delay_s, fits_memory, new = load.evaluate(network, terms, column(rows), service, model, server)
        meets_deadline = delay_s <= deadline_s
        accepted = meets_deadline & fits_memory
        instance_mb = np.where(new, terms.instance_mb, 0.0)
        cost = np.where(accepted, terms.request_cost + params.memory_price_per_mb * instance_mb, 0.0)
        accuracy_term = np.where(accepted, terms.accuracy_std, params.rejection_accuracy)
        return cls(
            accepted=accepted,
            meets_deadline=meets_deadline,
            fits_memory=fits_memory,
            delay_s=delay_s,
            accuracy=SERVICE_TABLES.accuracy[service, config, model],
            accuracy_std=terms.accuracy_std,
            cost=cost,
            memory_mb=terms.data_mb + instance_mb,
            reward=accuracy_term - delay_s - cost,
            terms=terms,
        )

    @classmethod
    def alone(
        cls,
        network: ServerNetwork,
        params: DnnInferenceParams,
        requests: RequestBatch,
        config: np.ndarray,
        model: np.ndarray,
        server: np.ndarray,
    ) -> RequestOutcome:
        """:meth:`evaluate` with each request alone on its slot's pre-decision state (background only)."""
        load = ServerLoad.background(requests.background_tflop, requests.background_memory_mb)
        return cls.evaluate(network, params, load, np.arange(len(requests)), requests, config, model, server)
