"""One worker at run time: its pods (one per LM), their FIFO request queues, and its free resources.

Spec c, "Pods" and "Queues":

- Lifecycle OFF -> PENDING -> INIT -> READY -> TERMINATING -> OFF. A created pod waits PENDING until
  its cores, vGPUs, RAM and vRAM are free (admitted FIFO), then holds them through INIT and
  TERMINATING for the LM's times. A restart terminates and then re-creates the pod (``next``).
- vGPUs are taken first-fit; vGPU k lies on physical GPU ``k // vgpus_per_gpu``.
- A READY pod serves the head of its LM's queue one prompt at a time. A GPU prompt runs
  ``1 / (1 - theta)`` slower while another pod holding a vGPU on the same GPU is busy; a change of
  that status (or a core resize) changes the speed of the prompt in flight, which keeps its progress.
- Terminating a serving pod loses only the partial prompt: the request keeps its completed prompts
  and stays at the head. A request that misses its deadline leaves the queue (or the pod drops it).

The node only changes state; the simulator owns the clock and the event heap (``schedule``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from edgeplace.envs.lm_inference.lm_types import LM_TABLE, NUM_LMS, Mode
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.pod import EventKind, Pod, PodState, Request, Where
from edgeplace.envs.lm_inference.request_log import Outcome, RequestLog
from edgeplace.envs.lm_inference.time_model import prompt_time_s

Schedule = Callable[[float, EventKind, object, int], None]


class NodeRuntime:
    """Pods, queues and free resources of one worker.

    Args:
        cores, ram_gb, vram_gb, vgpus, vgpus_per_gpu: the node's allocatable hardware.
        schedule: ``schedule(time_s, kind, pod_or_request, version)`` puts an event on the clock.
        log: the episode's request records (outcomes are written here).
    """

    def __init__(
        self,
        cores: int,
        ram_gb: float,
        vram_gb: float,
        vgpus: int,
        vgpus_per_gpu: int,
        params: LmInferenceParams,
        schedule: Schedule,
        log: RequestLog,
    ) -> None:
        self.cores, self.ram_gb, self.vgpus = cores, ram_gb, vgpus
        self.params, self._schedule, self.log = params, schedule, log
        self.vgpus_per_gpu = vgpus_per_gpu
        self.pods = [Pod(i) for i in range(NUM_LMS)]
        self.queues: list[deque[Request]] = [deque() for _ in range(NUM_LMS)]
        self.pending: deque[Pod] = deque()
        self.free_cores, self.free_ram_gb, self.free_vram_gb = cores, ram_gb, vram_gb
        self.free_slots = [True] * vgpus
        self.queued_prompts = [0] * NUM_LMS
        """Prompts left of the requests queued here (the one in service included), per LM."""
        self.transit_prompts = [0] * NUM_LMS
        self.queued_requests = [0] * NUM_LMS
        """Requests queued here (the one in service included), per LM."""
        self.busy_cores = self.busy_vgpus = 0
        self.busy_core_s = self.busy_vgpu_s = 0.0
        self._accounted_s = 0.0
        self.prompt_actual_s = np.zeros(NUM_LMS)
        """Measured seconds of the prompts completed here, per LM (for service-time correction)."""
        self.prompt_nominal_s = np.zeros(NUM_LMS)
        """Their unshared model time."""

    # --- requests ------------------------------------------------------------------------------
    def send(self, request: Request) -> None:
        """A request leaves its origin towards this node."""
        self.transit_prompts[request.lm] += request.prompts

    def arrive(self, request: Request, now: float) -> None:
        """The request's prompts reach this node and join the LM's queue."""
        if request.where == Where.DONE:
            return
        lm = request.lm
        self.transit_prompts[lm] -= request.prompts
        self.queued_prompts[lm] += request.prompts
        self.queued_requests[lm] += 1
        request.where = Where.QUEUED
        self.queues[lm].append(request)
        pod = self.pods[lm]
        if pod.state == PodState.READY and pod.request is None:
            self._serve_next(pod, now)

    def expire(self, request: Request, now: float) -> None:
        """The request's deadline passed: it fails and leaves the queue (or the pod drops it)."""
        if request.where == Where.DONE:
            return
        left = request.prompts - request.done
        if request.where == Where.TRANSIT:
            self.transit_prompts[request.lm] -= left
        else:
            self.queued_prompts[request.lm] -= left
            self.queued_requests[request.lm] -= 1
        request.where = Where.DONE
        self.log.outcome[request.id] = Outcome.EXPIRED
        self.log.resolved_s[request.id] = now
        pod = self.pods[request.lm]
        if pod.request is request:
            self._record_service(pod, now)
            self._stop(pod, now)
            self._serve_next(pod, now)

    # --- serving -------------------------------------------------------------------------------
    def complete(self, pod: Pod, version: int, now: float) -> None:
        """A prompt in flight finished (ignored when ``version`` is stale)."""
        if version != pod.version or pod.request is None:
            return
        request = pod.request
        self._record_service(pod, now)
        self.prompt_actual_s[pod.lm] += now - pod.started
        self.prompt_nominal_s[pod.lm] += pod.alone_s
        request.done += 1
        self.queued_prompts[pod.lm] -= 1
        if request.done < request.prompts:
            self._start_prompt(pod, now, request)
            return
        request.where = Where.DONE
        self.queued_requests[pod.lm] -= 1
        self.log.outcome[request.id] = Outcome.SUCCESS
        self.log.resolved_s[request.id] = now + request.download_s
        self._serve_next(pod, now)

    def _serve_next(self, pod: Pod, now: float) -> None:
        """Serve the queue head (skipping resolved requests), or go idle."""
        queue = self.queues[pod.lm]
        while queue and queue[0].where == Where.DONE:
            queue.popleft()
        self._start_prompt(pod, now, queue[0] if queue else None)

    def _start_prompt(self, pod: Pod, now: float, request: Request | None) -> None:
        """Start the next prompt of ``request`` (None: go idle)."""
        if request is None:
            if pod.request is not None:
                self._stop(pod, now)
            return
        was_idle = pod.request is None
        if was_idle:
            self._set_busy(pod, now, busy=True)
        pod.request = request
        pod.left, pod.since, pod.started = 1.0, now, now
        pod.prompt_s = pod.shared_s if self._shared(pod) else pod.alone_s
        self._reschedule(pod, now)
        if was_idle:
            self._update_neighbours(pod, now)

    def _stop(self, pod: Pod, now: float) -> None:
        """The pod stops serving (the partial prompt is lost)."""
        pod.request = None
        pod.version += 1
        self._set_busy(pod, now, busy=False)
        self._update_neighbours(pod, now)

    def _record_service(self, pod: Pod, now: float) -> None:
        self.log.service_s[pod.request.id] += now - pod.started

    def _reschedule(self, pod: Pod, now: float) -> None:
        pod.version += 1
        self._schedule(now + max(pod.left, 0.0) * pod.prompt_s, EventKind.COMPLETE, pod, pod.version)

    def _shared(self, pod: Pod) -> bool:
        return pod.mode == Mode.GPU and any(
            other is not pod and other.request is not None and not pod.gpus.isdisjoint(other.gpus)
            for other in self.pods
        )

    def _set_speed(self, pod: Pod, now: float) -> None:
        """Re-time the prompt in flight after its speed may have changed, keeping its progress."""
        prompt_s = pod.shared_s if self._shared(pod) else pod.alone_s
        if prompt_s == pod.prompt_s:
            return
        pod.left -= (now - pod.since) / pod.prompt_s
        pod.since, pod.prompt_s = now, prompt_s
        self._reschedule(pod, now)

    def _update_neighbours(self, pod: Pod, now: float) -> None:
        if pod.gpus:
            for other in self.pods:
                if other is not pod and other.request is not None and not pod.gpus.isdisjoint(other.gpus):
                    self._set_speed(other, now)

    # --- utilisation ---------------------------------------------------------------------------
    def _account(self, now: float) -> None:
        elapsed = now - self._accounted_s
        self.busy_core_s += self.busy_cores * elapsed
        self.busy_vgpu_s += self.busy_vgpus * elapsed
        self._accounted_s = now

    def _set_busy(self, pod: Pod, now: float, busy: bool) -> None:
        self._account(now)
        sign = 1 if busy else -1
        self.busy_cores += sign * pod.cores
        self.busy_vgpus += sign * pod.vgpus

    def close_slot(self, now: float, slot_s: float) -> tuple[float, float]:
        """End a slot at ``now``: (cpu, gpu) busy fractions over it, then reset the accumulators."""
        self._account(now)
        cpu = self.busy_core_s / (self.cores * slot_s)
        gpu = self.busy_vgpu_s / (self.vgpus * slot_s) if self.vgpus else 0.0
        self.busy_core_s = self.busy_vgpu_s = 0.0
        return cpu, gpu

    # --- lifecycle -----------------------------------------------------------------------------
    def create(self, lm: int, config: tuple[int, int, int], now: float) -> None:
        """Create the (OFF) pod of ``lm`` with ``(mode, cores, vgpus)``: PENDING, then admitted FIFO."""
        pod = self.pods[lm]
        pod.mode, pod.cores, pod.vgpus = config
        pod.next = None
        pod.state = PodState.PENDING
        self.pending.append(pod)
        self._admit(now)

    def terminate(self, lm: int, now: float, next_config: tuple[int, int, int] | None = None) -> None:
        """Terminate the READY pod of ``lm``; ``next_config`` re-creates it afterwards (a restart)."""
        pod = self.pods[lm]
        if pod.request is not None:
            self._record_service(pod, now)
            self._stop(pod, now)
        pod.state, pod.next = PodState.TERMINATING, next_config
        self._begin_transition(pod, now, LM_TABLE.terminate_s[lm])

    def resize(self, lm: int, cores: int, now: float) -> int:
        """Resize the READY pod's cores in place (a grow is capped by the free cores); returns the cores
        it now has."""
        pod = self.pods[lm]
        cores = min(cores, pod.cores + self.free_cores)
        if cores == pod.cores:
            return cores
        busy = pod.request is not None
        if busy:
            self._set_busy(pod, now, busy=False)
        self.free_cores -= cores - pod.cores
        pod.cores = cores
        self._set_times(pod)
        if busy:
            self._set_busy(pod, now, busy=True)
            self._set_speed(pod, now)
        self._admit(now)  # a shrink may unblock a pending pod
        return cores

    def transition_done(self, pod: Pod, version: int, now: float) -> None:
        """INIT or TERMINATING of ``pod`` ended (ignored when ``version`` is stale)."""
        if version != pod.version:
            return
        if pod.state == PodState.INIT:
            pod.state = PodState.READY
            self._serve_next(pod, now)
            return
        self._release(pod)
        pod.state = PodState.OFF
        if pod.next is not None:
            self.create(pod.lm, pod.next, now)
        else:
            self._admit(now)

    def _begin_transition(self, pod: Pod, now: float, duration_s: float) -> None:
        pod.version += 1
        pod.until = now + duration_s
        self._schedule(pod.until, EventKind.TRANSITION, pod, pod.version)

    def _fits(self, pod: Pod) -> bool:
        gpu = pod.mode == Mode.GPU
        return (
            pod.cores <= self.free_cores
            and LM_TABLE.min_ram_gb[pod.lm] <= self.free_ram_gb + 1e-9
            and (not gpu or LM_TABLE.min_vram_gb[pod.lm] <= self.free_vram_gb + 1e-9)
            and pod.vgpus <= sum(self.free_slots)
        )

    def _admit(self, now: float) -> None:
        while self.pending and self._fits(self.pending[0]):
            pod = self.pending.popleft()
            self.free_cores -= pod.cores
            self.free_ram_gb -= LM_TABLE.min_ram_gb[pod.lm]
            slots = [k for k, free in enumerate(self.free_slots) if free][: pod.vgpus]
            for k in slots:
                self.free_slots[k] = False
            pod.slots = tuple(slots)
            pod.gpus = frozenset(k // self.vgpus_per_gpu for k in slots)
            if pod.mode == Mode.GPU:
                self.free_vram_gb -= LM_TABLE.min_vram_gb[pod.lm]
            self._set_times(pod)
            pod.state = PodState.INIT
            self._begin_transition(pod, now, float(LM_TABLE.init_s(pod.mode, pod.lm)))

    def _release(self, pod: Pod) -> None:
        self.free_cores += pod.cores
        self.free_ram_gb += LM_TABLE.min_ram_gb[pod.lm]
        if pod.mode == Mode.GPU:
            self.free_vram_gb += LM_TABLE.min_vram_gb[pod.lm]
        for k in pod.slots:
            self.free_slots[k] = True
        pod.slots, pod.gpus = (), frozenset()
        pod.mode, pod.cores, pod.vgpus = Mode.OFF, 0, 0

    def _set_times(self, pod: Pod) -> None:
        alone, shared = prompt_time_s(pod.lm, pod.mode, pod.cores, pod.vgpus, self.params, np.array([0, 1]))
        pod.alone_s, pod.shared_s = float(alone), float(shared)
