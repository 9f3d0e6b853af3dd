"""The JSQ scheduler of the rule backend (spec d): join the shortest expected queue among in-role nodes.

Pairs are processed in (origin, LM) order; each request goes to the in-role node (one that can host
the LM) minimising ``(backlog + prompts already sent there this slot + K) t-hat + X_up + X_down +
time to ready``; ties go to the higher p_in, then the lower node index.

- t-hat: unshared per-prompt time of the configuration the pod is heading to; for a pod heading to
  off, that of the plan's configuration hint for the LM, else of a nominal pod (1 vGPU and the GPU
  host cores on a node with vGPUs, otherwise CPU mode with all the node's cores).
- Time to ready: :meth:`ClusterView.time_to_ready_s`; for a pod heading to off, the init time of the
  configuration used for t-hat.
"""

from __future__ import annotations

import numpy as np

from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.lm_types import LM_TABLE, NUM_LMS, Mode
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.time_model import prompt_time_s


class JsqScheduler:
    """See the module docstring."""

    def __init__(self, cluster: Cluster, params: LmInferenceParams) -> None:
        self.cluster, self.params = cluster, params
        lm = np.arange(NUM_LMS)[None, :]
        has_gpu = (cluster.vgpus > 0)[:, None]
        nominal_mode = np.where(has_gpu | ~LM_TABLE.cpu_allowed[None, :], Mode.GPU, Mode.CPU)
        nominal_cores = np.where(nominal_mode == Mode.GPU, params.gpu_host_cores, cluster.cores[:, None])
        self.nominal = np.stack(np.broadcast_arrays(nominal_mode, nominal_cores, has_gpu.astype(np.int64)))
        """(3, N, I) (mode, cores, vgpus) of the nominal pod."""
        rt0 = np.stack([cluster.round_trip_s(i, 0, params) for i in range(NUM_LMS)])  # (I, N, N)
        self.round_trip_fixed_s = rt0
        self.round_trip_per_prompt_s = (
            np.stack([cluster.round_trip_s(i, 1, params) for i in range(NUM_LMS)]) - rt0
        )
        self.lm = lm

    def estimates(self, view: ClusterView, plan: Plan) -> tuple[np.ndarray, np.ndarray]:
        """(t-hat, time to ready) of every pod, s. Shapes: (N, I), (N, I)."""
        target = np.stack([view.mode, view.cores, view.vgpus])  # (3, N, I)
        fallback = self.nominal
        if plan.config_hint is not None:
            hint = np.array([[c.mode, c.cores, c.vgpus] for c in plan.config_hint]).transpose(1, 0, 2)
            fallback = np.where(hint[0] != Mode.OFF, hint, self.nominal)
        heading_off = view.mode == Mode.OFF
        mode, cores, vgpus = np.where(heading_off[None], fallback, target)
        t_hat = prompt_time_s(self.lm, mode, cores, vgpus, self.params)
        ready = np.where(heading_off, LM_TABLE.init_s(mode, self.lm), view.time_to_ready_s())
        return t_hat, ready

    def route(self, view: ClusterView, plan: Plan) -> np.ndarray:
        """Destinations of this slot's requests (:class:`Scheduler` protocol). Shapes: -> (N, I) int64."""
        t_hat, ready = self.estimates(view, plan)
        candidates = plan.roles & self.cluster.can_host  # (N, I)
        candidates = np.where(candidates.any(axis=0), candidates, self.cluster.can_host)
        added = np.zeros(view.demand.shape, dtype=np.int64)
        dest = np.repeat(np.arange(view.num_nodes)[:, None], NUM_LMS, axis=1)
        index = np.arange(view.num_nodes)
        for origin, lm in zip(*np.nonzero(view.demand), strict=True):
            prompts = view.demand[origin, lm]
            transfer = (
                self.round_trip_fixed_s[lm, origin] + prompts * self.round_trip_per_prompt_s[lm, origin]
            )
            cost = (
                (view.backlog_prompts[:, lm] + added[:, lm] + prompts) * t_hat[:, lm]
                + transfer
                + ready[:, lm]
            )
            cost = np.where(candidates[:, lm], cost, np.inf)
            best = np.lexsort((index, -plan.routing[lm], cost))[0]
            dest[origin, lm] = best
            added[best, lm] += prompts
        return dest
