"""The discrete-event simulator of the lm-inference scenario (spec: papers/multi-agentic-lm-inference.md,
sections b and c).

A slot t covers [30 t, 30 t + 30). Its decisions come first, in the hierarchy's order: the caller
routes the slot's requests (:meth:`LmInferenceSim.route`, one destination per (origin, LM)), then
sets each node's configuration (:meth:`LmInferenceSim.deploy`), then :meth:`LmInferenceSim.advance`
runs the slot's events in time order: uplink arrivals, prompt completions, pod transitions and
deadlines (a heap; at equal times completions first, so a result exactly on time succeeds).
All requests of slot t are released at 30 t. A request's deadline is arrival + tau - X_down: past it,
it fails and leaves its queue (or its pod drops it). Planning (every epoch) happens outside, before
routing, on :meth:`view` and :meth:`service_stats`.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Sequence
from enum import Enum

import numpy as np

from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.lm_types import LM_LABELS, LM_TABLE, NUM_LMS
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.node_runtime import NodeRuntime
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.pod import EventKind, PodState, Request, Where
from edgeplace.envs.lm_inference.reconfigure import ReconfigCounts, apply_node_config
from edgeplace.envs.lm_inference.request_log import Outcome, RequestLog


class SlotPhase(Enum):
    """What the simulator expects next within a slot."""

    ROUTE = "route"
    DEPLOY = "deploy"
    ADVANCE = "advance"
    FINISHED = "finished"


class LmInferenceSim:
    """One episode of the cluster under a given workload.

    Args:
        cluster: the workers.
        prompts: (T, N, I) int64 K per (slot, origin, LM), 0 = no request (see
            :func:`edgeplace.workloads.lm_inference.draw_prompts`); T is the episode's length.
        params: the system model's parameters.
    """

    def __init__(
        self, cluster: Cluster, prompts: np.ndarray, params: LmInferenceParams | None = None
    ) -> None:
        prompts = np.asarray(prompts)
        expected = (cluster.num_nodes, NUM_LMS)
        if prompts.ndim != 3 or prompts.shape[1:] != expected or prompts.shape[0] < 1:
            raise ValueError(
                f"prompts: expected shape (T >= 1, {expected[0]}, {expected[1]}), got {prompts.shape}"
            )
        if not np.issubdtype(prompts.dtype, np.integer) or (prompts < 0).any():
            raise ValueError("prompts: expected non-negative integers")
        self.cluster, self.params = cluster, params or LmInferenceParams()
        self.prompts = prompts.astype(np.int64)
        self.log = RequestLog(self.prompts)
        self.counts = ReconfigCounts()
        self.slot, self.phase = 0, SlotPhase.ROUTE
        self._heap: list[tuple[float, int, int, int, object, int]] = []
        self._seq = itertools.count()
        self.nodes = [
            NodeRuntime(
                int(cluster.cores[n]),
                float(cluster.ram_gb[n]),
                float(cluster.vram_gb[n]),
                int(cluster.vgpus[n]),
                cluster.vgpus_per_gpu,
                self.params,
                functools.partial(self._schedule, n),
                self.log,
            )
            for n in range(cluster.num_nodes)
        ]
        self._busy = np.zeros((2, cluster.num_nodes))
        """(cpu, gpu) busy fractions of each node over the previous slot."""
        self._nominal = np.zeros((self.num_slots + 1, NUM_LMS))
        self._actual = np.zeros((self.num_slots + 1, NUM_LMS))

    @property
    def num_slots(self) -> int:
        """T, slots in the episode."""
        return int(self.prompts.shape[0])

    @property
    def time_s(self) -> float:
        """Start of the current slot, s."""
        return self.slot * self.params.slot_s

    @property
    def done(self) -> bool:
        """All T slots have run."""
        return self.phase is SlotPhase.FINISHED

    # --- decisions -----------------------------------------------------------------------------
    def demand(self) -> np.ndarray:
        """K of this slot's requests (none once the episode has ended). Shapes: (N, I) int64, 0 = no
        request."""
        return self.prompts[self.slot] if not self.done else np.zeros_like(self.prompts[0])

    def view(self) -> ClusterView:
        """The cluster now: the start of the current slot, with this slot's routed requests in transit
        once :meth:`route` has run."""
        pods = np.array(
            [[(p.state, *p.target(), p.until) for p in node.pods] for node in self.nodes]
        )  # (N, I, 5)
        state = pods[..., 0].astype(np.int64)
        target = pods[..., 1:4].astype(np.int64)
        in_transition = (state == PodState.INIT) | (state == PodState.TERMINATING)
        queues = np.array(
            [(node.queued_prompts, node.transit_prompts, node.queued_requests) for node in self.nodes]
        )
        free = np.array(
            [(node.free_cores, sum(node.free_slots), node.free_ram_gb, node.ram_gb) for node in self.nodes]
        )
        return ClusterView(
            slot=self.slot,
            time_s=self.time_s,
            demand=self.demand().copy(),
            backlog_prompts=queues[:, 0] + queues[:, 1],
            inbound_prompts=queues[:, 1],
            queued_requests=queues[:, 2],
            oldest_age_s=self._oldest_age_s(),
            pod_state=state,
            mode=target[..., 0],
            cores=target[..., 1],
            vgpus=target[..., 2],
            transition_left_s=np.where(in_transition, np.maximum(pods[..., 4] - self.time_s, 0.0), 0.0),
            pending=np.array([bool(node.pending) for node in self.nodes]),
            free_cores=free[:, 0].astype(np.int64),
            free_vgpus=free[:, 1].astype(np.int64),
            free_ram_gb=free[:, 2],
            eta_cpu=1.0 - self._busy[0],
            eta_gpu=1.0 - self._busy[1],
            eta_mem=free[:, 2] / free[:, 3],
        )

    def route(self, destinations: np.ndarray) -> None:
        """Send each of this slot's requests to ``destinations[origin, lm]`` (entries without a
        request are ignored). A destination that can never host the LM fails the request at once.

        Shapes: destinations (N, I) int.

        Raises:
            RuntimeError: called out of phase. ValueError: a bad shape or a destination out of range.
        """
        self._expect(SlotPhase.ROUTE, "route")
        dest = np.asarray(destinations)
        if dest.shape != (self.cluster.num_nodes, NUM_LMS):
            raise ValueError(
                f"destinations: expected shape {(self.cluster.num_nodes, NUM_LMS)}, got {dest.shape}"
            )
        ids = np.arange(self.log.slot_start[self.slot], self.log.slot_start[self.slot + 1])
        origin, lm, prompts = self.log.origin[ids], self.log.lm[ids], self.log.prompts[ids]
        if not np.issubdtype(dest.dtype, np.integer):
            raise ValueError(f"destinations: expected integer node indices, got dtype {dest.dtype}")
        chosen = dest[origin, lm]
        bad = np.flatnonzero((chosen < 0) | (chosen >= self.cluster.num_nodes))
        if bad.size:
            o, i = origin[bad[0]], lm[bad[0]]
            raise ValueError(
                f"destinations[{self.cluster.names[o]}, {LM_LABELS[i]}] = {chosen[bad[0]]}: "
                f"expected a node index in [0, {self.cluster.num_nodes})"
            )
        up = self.cluster.transfer_s(origin, chosen, LM_TABLE.upload_mb[lm] * prompts, self.params)
        down = self.cluster.transfer_s(chosen, origin, LM_TABLE.download_mb[lm] * prompts, self.params)
        self.log.dest[ids], self.log.upload_s[ids], self.log.download_s[ids] = chosen, up, down
        now, tau = self.time_s, self.params.deadline_s
        feasible = self.cluster.can_host[chosen, lm]
        self.log.outcome[ids[~feasible]] = Outcome.INFEASIBLE
        self.log.resolved_s[ids[~feasible]] = now
        for rid, node, i, k, x_up, x_down in zip(
            ids[feasible].tolist(),
            chosen[feasible].tolist(),
            lm[feasible].tolist(),
            prompts[feasible].tolist(),
            up[feasible].tolist(),
            down[feasible].tolist(),
            strict=True,
        ):
            request = Request(rid, i, k, now + tau - x_down, x_down)
            self.nodes[node].send(request)
            self._schedule(node, now + x_up, EventKind.ARRIVAL, request, 0)
            self._schedule(node, request.deadline_s, EventKind.DEADLINE, request, 0)
        self.phase = SlotPhase.DEPLOY

    def deploy(self, configs: Sequence[NodeConfig | None]) -> ReconfigCounts:
        """Set each node's target configuration (None keeps it) at the start of the slot.

        Raises:
            RuntimeError: called out of phase. ValueError: the wrong number of configurations, or one
                that does not fit its node (naming the node and field).
        """
        self._expect(SlotPhase.DEPLOY, "deploy")
        if len(configs) != self.cluster.num_nodes:
            raise ValueError(
                f"configs: expected {self.cluster.num_nodes} entries (one per node), got {len(configs)}"
            )
        for n, config in enumerate(configs):
            if config is not None:
                config.check_fits(self.cluster, n)
        counts = ReconfigCounts()
        for node, config in zip(self.nodes, configs, strict=True):
            if config is not None:
                counts.add(apply_node_config(node, config, self.time_s))
        self.counts.add(counts)
        self.phase = SlotPhase.ADVANCE
        return counts

    def advance(self) -> None:
        """Run the slot's events up to and including its end, then move to the next slot.

        Raises:
            RuntimeError: called before this slot's routing, or after the episode ended.
        """
        if self.done:
            raise RuntimeError("advance: the episode has ended")
        if self.phase is SlotPhase.ROUTE:
            raise RuntimeError(f"advance: slot {self.slot} needs route() first")
        end = self.time_s + self.params.slot_s
        heap, nodes = self._heap, self.nodes
        while heap and heap[0][0] <= end:
            now, kind, _, node, target, version = heapq.heappop(heap)
            if kind == EventKind.COMPLETE:
                nodes[node].complete(target, version, now)
            elif kind == EventKind.TRANSITION:
                nodes[node].transition_done(target, version, now)
            elif kind == EventKind.ARRIVAL:
                nodes[node].arrive(target, now)
            else:
                nodes[node].expire(target, now)
        self._busy = np.array([node.close_slot(end, self.params.slot_s) for node in nodes]).T
        self._nominal[self.slot + 1] = sum(node.prompt_nominal_s for node in nodes)
        self._actual[self.slot + 1] = sum(node.prompt_actual_s for node in nodes)
        self.slot += 1
        self.phase = SlotPhase.FINISHED if self.slot >= self.num_slots else SlotPhase.ROUTE

    # --- measurements --------------------------------------------------------------------------
    def service_stats(self, first_slot: int, end_slot: int) -> tuple[np.ndarray, np.ndarray]:
        """Measured and unshared-model seconds of the prompts completed in slots
        [first_slot, end_slot) (the service-time correction's inputs). Shapes: (I,), (I,)."""
        actual, nominal = self._actual, self._nominal
        return actual[end_slot] - actual[first_slot], nominal[end_slot] - nominal[first_slot]

    # --- internals -----------------------------------------------------------------------------
    def _oldest_age_s(self) -> np.ndarray:
        """Age of the oldest request queued per (node, LM), 0 where none is. Shapes: (N, I)."""
        age = np.zeros((self.cluster.num_nodes, NUM_LMS))
        queued, slot = Where.QUEUED, self.log.slot
        for n, node in enumerate(self.nodes):
            for lm, count in enumerate(node.queued_requests):
                if count:  # resolved requests may still sit in the deque before the oldest live one
                    head = next(r for r in node.queues[lm] if r.where is queued)
                    age[n, lm] = self.time_s - slot[head.id] * self.params.slot_s
        return age

    def _schedule(self, node: int, time_s: float, kind: EventKind, target: object, version: int) -> None:
        heapq.heappush(self._heap, (time_s, int(kind), next(self._seq), node, target, version))

    def _expect(self, phase: SlotPhase, call: str) -> None:
        if self.phase is not phase:
            raise RuntimeError(
                f"{call}: slot {self.slot} is in phase {self.phase.value!r}, not {phase.value!r}"
            )
