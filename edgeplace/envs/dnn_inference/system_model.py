"""The per-slot system model of the dnn-inference scenario (spec: papers/hisper.md, section b).

Three layers, all vectorised numpy:

- :func:`request_terms`: everything about a request that does not depend on other requests (data
  size, access and transmission delay, work, accuracy, instance memory, routing and compute cost),
  for any broadcastable shape of (request, configuration, model, server): one slot's requests, or
  every candidate action of many agents at once.
- :func:`admit_slot`: the slot's admission in agent order (deadline (15) and memory (14)), with
  instance sharing and queue accumulation, as a fixed point of a vectorised map (below).
- :class:`ServerLoad`: the same admission one request at a time, for policies that evaluate every
  candidate action of the next request on the state that earlier requests left (the baselines; the
  request's outcome is :class:`~edgeplace.envs.dnn_inference.request_outcome.RequestOutcome`).

Admission as a fixed point: request u's queue and memory are sums over *accepted* earlier requests
on its server, so accepted[u] is a function of accepted[:u]. Starting from "all accepted", one
vectorised pass recomputes every request's delay and memory from the current guess with (R, R)
"earlier on the same server / same instance" masks; the pass is repeated until the guess stops
changing. Pass m fixes request m - 1 for good, so the loop ends after at most R + 1 passes (usually
2) with exactly the sequential result; no Python loop runs over requests, servers or paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.dnn_inference.network import MBIT_PER_MB, ServerNetwork
from edgeplace.envs.dnn_inference.params import DnnInferenceParams
from edgeplace.workloads.dnn_inference import MAX_MODELS, NUM_SERVICES, SERVICE_TABLES


@dataclass(frozen=True)
class RequestTerms:
    """Order-independent terms of requests (all arrays share one broadcast shape ``S``).

    Shapes (S):
        data_mb: D_u = eta_s(i) data_u, MB (Eq. 2).
        base_delay_s: access (Eq. 3) + transmission (Eq. 4) delay, s.
        work_tflop: A_j I_s(i), TFLOP.
        compute_tflops: A_k of the chosen server, TFLOP/s.
        accuracy_std: Eq. 19's standardised Phi_s(i, j).
        instance_mb: B_j, memory of a new instance, MB.
        request_cost: routing (Eq. 8) + compute (Eq. 10 with I) cost, $, paid only if accepted.
    """

    data_mb: np.ndarray
    base_delay_s: np.ndarray
    work_tflop: np.ndarray
    compute_tflops: np.ndarray
    accuracy_std: np.ndarray
    instance_mb: np.ndarray
    request_cost: np.ndarray

    def delay_s(self, queue_tflop: np.ndarray) -> np.ndarray:
        """Eq. 6's d_u when ``queue_tflop`` (H_{u,k}, TFLOP) waits ahead of the request (Eq. 5)."""
        return self.base_delay_s + (self.work_tflop + queue_tflop) / self.compute_tflops

    def admitted(
        self,
        queue_tflop: np.ndarray,
        used_mb: np.ndarray,
        capacity_mb: np.ndarray,
        new_instance: np.ndarray,
        deadline_s: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(delay, accepted): (15) ``d_u <= dreq_u`` and (14) ``used + D_u + new * B_j <= B_k``.

        ``used_mb`` is H_mem_k plus the instances and data already admitted on k this slot.
        """
        delay = self.delay_s(queue_tflop)
        return delay, (delay <= deadline_s) & self.fits_memory(used_mb, capacity_mb, new_instance)

    def fits_memory(
        self, used_mb: np.ndarray, capacity_mb: np.ndarray, new_instance: np.ndarray
    ) -> np.ndarray:
        """(14): ``used + D_u + new * B_j <= B_k``, with ``used_mb`` as in :meth:`admitted`."""
        return used_mb + self.data_mb + np.where(new_instance, self.instance_mb, 0.0) <= capacity_mb


def request_terms(
    network: ServerNetwork,
    params: DnnInferenceParams,
    service: np.ndarray,
    local: np.ndarray,
    data_mb: np.ndarray,
    config: np.ndarray,
    model: np.ndarray,
    server: np.ndarray,
) -> RequestTerms:
    """Terms of requests (service, local server, raw data) under actions (config, model, server).

    All arguments broadcast against each other (integer indices, data in MB); a padded model slot
    (MOT model 3) gives NaN terms, which no admission accepts.
    """
    tables = SERVICE_TABLES
    data = tables.data_factor[service, config] * data_mb
    data_mbit = MBIT_PER_MB * data
    tflop = tables.model_tflop[service, model]
    work = tflop * tables.work_factor[service, config]
    compute = network.compute_tflops[server]
    base_delay = data_mbit / network.uplink_mbps[local] + data_mbit * network.path_s_per_mbit[local, server]
    cost = (
        params.routing_price_per_mbit * data_mbit * network.path_hops[local, server]
        + params.compute_price_per_s * work / compute
        + params.memory_price_per_mb * data
    )
    return RequestTerms(
        data_mb=data,
        base_delay_s=base_delay,
        work_tflop=work,
        compute_tflops=compute,
        accuracy_std=tables.accuracy_std[service, config, model],
        instance_mb=tables.model_memory_mb[service, model],
        request_cost=cost,
    )


@dataclass(frozen=True)
class SlotRequests:
    """One slot's requests in agent order and the servers' background.

    Shapes (R requests, V servers): service, local (R,) int64; data_mb, deadline_s (R,);
    background_tflop, background_memory_mb (V,).
    """

    service: np.ndarray
    local: np.ndarray
    data_mb: np.ndarray
    deadline_s: np.ndarray
    background_tflop: np.ndarray
    background_memory_mb: np.ndarray


@dataclass(frozen=True)
class SlotOutcome:
    """What the slot's admission did, per request in agent order.

    Shapes (R,):
        accepted: bool. delay_s: d_u, charged to every request (Eq. 6-7).
        accuracy: Acc_n of the reward, the standardised accuracy if accepted else the penalty.
        accuracy_std: standardised accuracy of the chosen (config, model), accepted or not.
        request_cost: routing + compute cost if accepted, else 0, $.
        memory_cost_share: the accepted request's equal share of its instance's memory cost (Eq. 9),
            else 0, $; the shares of a slot sum to Psi_mem(t).
        new_instance: the accepted request that created its (service, model, server) instance.
        hops: links on the route from the local to the chosen server.
    """

    accepted: np.ndarray
    delay_s: np.ndarray
    accuracy: np.ndarray
    accuracy_std: np.ndarray
    request_cost: np.ndarray
    memory_cost_share: np.ndarray
    new_instance: np.ndarray
    hops: np.ndarray

    @property
    def r_acc(self) -> float:
        """r1 = sum of Acc_n."""
        return float(self.accuracy.sum())

    @property
    def r_delay(self) -> float:
        """r2 = -d_total(t), s."""
        return -float(self.delay_s.sum())

    @property
    def r_cost(self) -> float:
        """r3 = -Psi(t), $ (Eq. 11)."""
        return -float(self.request_cost.sum() + self.memory_cost_share.sum())

    @property
    def reward(self) -> float:
        """r = r1 + r2 + r3 (Eq. 20-21)."""
        return self.r_acc + self.r_delay + self.r_cost

    @property
    def agent_cost(self) -> np.ndarray:
        """Each request's own routing and compute cost plus its share of instance memory. Shapes: (R,)."""
        return self.request_cost + self.memory_cost_share


def admit_slot(
    network: ServerNetwork, params: DnnInferenceParams, slot: SlotRequests, actions: np.ndarray
) -> SlotOutcome:
    """Admit a slot's requests in agent order (spec b, "Admission"); see the module docstring.

    Shapes: actions (R, 3) int64 rows (configuration, model, server), already range-checked.
    """
    config, model, server = actions.T
    terms = request_terms(network, params, slot.service, slot.local, slot.data_mb, config, model, server)
    earlier = np.tri(server.size, k=-1, dtype=bool)  # [u, u']: u' precedes u
    same_server = earlier & (server[:, None] == server[None, :])
    same_instance = same_server & (slot.service[:, None] == slot.service) & (model[:, None] == model)
    same_server_f = same_server.astype(np.float64)
    background_tflop = slot.background_tflop[server]
    background_mb = slot.background_memory_mb[server]
    capacity_mb = network.memory_mb[server]

    accepted = np.ones(server.size, dtype=bool)
    for _ in range(server.size + 1):
        new = ~(same_instance & accepted).any(axis=1)
        created = accepted & new
        queue = background_tflop + same_server_f @ np.where(accepted, terms.work_tflop, 0.0)
        taken = np.where(accepted, terms.data_mb, 0.0) + np.where(created, terms.instance_mb, 0.0)
        delay, admitted = terms.admitted(
            queue, background_mb + same_server_f @ taken, capacity_mb, new, slot.deadline_s
        )
        if np.array_equal(admitted, accepted):
            break
        accepted = admitted
    else:  # unreachable: pass m settles request m - 1
        raise RuntimeError("slot admission did not reach its fixed point")

    created = accepted & new
    same_key = (
        (server[:, None] == server) & (slot.service[:, None] == slot.service) & (model[:, None] == model)
    )
    sharers = (same_key & accepted).sum(axis=1)
    memory_cost = params.memory_price_per_mb * terms.instance_mb
    return SlotOutcome(
        accepted=accepted,
        delay_s=delay,
        accuracy=np.where(accepted, terms.accuracy_std, params.rejection_accuracy),
        accuracy_std=terms.accuracy_std,
        request_cost=np.where(accepted, terms.request_cost, 0.0),
        memory_cost_share=np.where(accepted, memory_cost / np.maximum(sharers, 1), 0.0),
        new_instance=created,
        hops=network.path_hops[slot.local, server],
    )


@dataclass
class ServerLoad:
    """Mutable per-slot server state of B independent slots, for request-by-request evaluation.

    Shapes (B slots, V servers): queue_tflop (B, V) H_k; used_mb (B, V) memory taken (background,
    instances, data); instances (B, S, M, V) bool, the (service, model, server) instances created.
    """

    queue_tflop: np.ndarray
    used_mb: np.ndarray
    instances: np.ndarray

    @classmethod
    def background(cls, background_tflop: np.ndarray, background_memory_mb: np.ndarray) -> ServerLoad:
        """The pre-decision state: background only, no instances. Shapes: (B, V) each."""
        queue = np.array(background_tflop, dtype=np.float64, ndmin=2)
        used = np.array(background_memory_mb, dtype=np.float64, ndmin=2)
        return cls(queue, used, np.zeros((*queue.shape[:1], NUM_SERVICES, MAX_MODELS, queue.shape[1]), bool))

    def evaluate(
        self,
        network: ServerNetwork,
        terms: RequestTerms,
        rows: np.ndarray,
        service: np.ndarray,
        model: np.ndarray,
        server: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(delay, fits_memory, new_instance) of requests on slots ``rows`` (all arguments broadcast);
        a request is admitted when it also meets its deadline (see :class:`RequestOutcome`)."""
        new = ~self.instances[rows, service, model, server]
        delay = terms.delay_s(self.queue_tflop[rows, server])
        fits = terms.fits_memory(self.used_mb[rows, server], network.memory_mb[server], new)
        return delay, fits, new

    def commit(
        self,
        rows: np.ndarray,
        service: np.ndarray,
        model: np.ndarray,
        server: np.ndarray,
        terms: RequestTerms,
        accepted: np.ndarray,
    ) -> None:
        """Add the accepted ones of K requests (one per slot row) to their slot's queue, memory, instances."""
        rows, service, model, server = (a[accepted] for a in (rows, service, model, server))
        new = ~self.instances[rows, service, model, server]
        self.queue_tflop[rows, server] += terms.work_tflop[accepted]
        self.used_mb[rows, server] += terms.data_mb[accepted] + np.where(
            new, terms.instance_mb[accepted], 0.0
        )
        self.instances[rows, service, model, server] = True
