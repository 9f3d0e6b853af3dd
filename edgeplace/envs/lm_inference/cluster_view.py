"""What every decision maker sees at the start of a slot: a read-only snapshot of the cluster.

The later RLlib env builds its observations from this, the rule backends and baselines decide on it,
and Serve fills it from a request; nothing reads the simulator's internals.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from edgeplace.envs.lm_inference.lm_types import LM_TABLE, Mode
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.pod import LOCKED_STATES, PodState


@dataclass(frozen=True, eq=False)
class ClusterView:
    """The cluster at time ``time_s``, the start of slot ``slot`` (after the previous slot ran).

    Shapes (N workers, I LMs; per-pod arrays are (N, I)):
        demand: (N, I) int64, prompts K of this slot's request per (origin, LM), 0 = none.
        backlog_prompts: (N, I) int64, prompts left of the requests queued at node n for LM i plus
            those in transit to it (Q_ni).
        inbound_prompts: (N, I) int64, the part of ``backlog_prompts`` still in transit.
        queued_requests: (N, I) int64, requests queued (in service included).
        oldest_age_s: (N, I) time since the arrival of the oldest request queued there, 0 when none.
        pod_state: (N, I) int64 :class:`PodState`.
        mode, cores, vgpus: (N, I) int64, the configuration each pod is heading to (a terminating
            pod: its next incarnation, or off).
        transition_left_s: (N, I) time left of the current INIT or TERMINATING, 0 otherwise.
        pending: (N,) bool, some pod of the node is PENDING (the step's allocations will be voided).
        free_cores, free_vgpus: (N,) int64; free_ram_gb: (N,) float64.
        eta_cpu, eta_gpu: (N,) 1 - busy fraction of the cores / vGPUs over the previous slot (1 at
            slot 0 and for a node without vGPUs).
        eta_mem: (N,) 1 - reserved / allocatable RAM, now.
    """

    slot: int
    time_s: float
    demand: np.ndarray
    backlog_prompts: np.ndarray
    inbound_prompts: np.ndarray
    queued_requests: np.ndarray
    oldest_age_s: np.ndarray
    pod_state: np.ndarray
    mode: np.ndarray
    cores: np.ndarray
    vgpus: np.ndarray
    transition_left_s: np.ndarray
    pending: np.ndarray
    free_cores: np.ndarray
    free_vgpus: np.ndarray
    free_ram_gb: np.ndarray
    eta_cpu: np.ndarray
    eta_gpu: np.ndarray
    eta_mem: np.ndarray

    @property
    def num_nodes(self) -> int:
        """N."""
        return int(self.pod_state.shape[0])

    @property
    def locked(self) -> np.ndarray:
        """Pods a control step cannot change (PENDING, INIT, TERMINATING). Shapes: (N, I) bool."""
        return np.isin(self.pod_state, LOCKED_STATES)

    def node_config(self, node: int) -> NodeConfig:
        """The configuration node ``node`` is heading to."""
        return NodeConfig(tuple(self.mode[node]), tuple(self.cores[node]), tuple(self.vgpus[node]))

    def routed(self, destinations: np.ndarray, can_host: np.ndarray) -> ClusterView:
        """The view once this slot's requests (``demand``) are routed, as the simulator shows it after
        :meth:`~edgeplace.envs.lm_inference.simulator.LmInferenceSim.route`: a request sent to a node
        that can host its LM is in transit there (backlog and inbound gain its prompts); one sent
        elsewhere has failed and leaves no trace.

        Shapes: destinations (N, I) int node index per (origin, LM); can_host (N, I) bool.
        """
        origin, lm = np.nonzero(self.demand)
        dest = np.asarray(destinations)[origin, lm]
        kept = can_host[dest, lm]
        sent = np.zeros_like(self.backlog_prompts)
        np.add.at(sent, (dest[kept], lm[kept]), self.demand[origin[kept], lm[kept]])
        return dataclasses.replace(
            self, backlog_prompts=self.backlog_prompts + sent, inbound_prompts=self.inbound_prompts + sent
        )

    def time_to_ready_s(self) -> np.ndarray:
        """Time until each pod could serve if left alone: 0 when READY, the rest of INIT, the rest of
        TERMINATING plus the next incarnation's init, the init of a PENDING pod (admission wait not
        included); inf when off or terminating to off. Shapes: (N, I) float64."""
        lm = np.arange(self.pod_state.shape[1])[None, :]
        init_s = np.where(self.mode == Mode.OFF, np.inf, LM_TABLE.init_s(self.mode, lm))
        state = self.pod_state
        return np.select(
            [state == PodState.READY, state == PodState.INIT, state == PodState.PENDING],
            [np.zeros_like(init_s), self.transition_left_s, init_s],
            default=self.transition_left_s + init_s,
        )
