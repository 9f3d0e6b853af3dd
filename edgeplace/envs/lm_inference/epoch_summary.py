"""What the planner sees of an epoch (spec d, "Planner": ``telemetry``, the memory's cases) and the
pod activity it is measured from.

KPIs cover the requests *resolved* in the epoch (the planner reward's window); arrival counts and the
off-role ratio cover the requests *released* in it; pod fractions and backlogs are means over its
slots, sampled once per slot when the deployers decide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.kpis import CohortKpis, cohort_kpis
from edgeplace.envs.lm_inference.lm_types import NUM_LMS, Mode
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.plan import MAX_WEIGHT
from edgeplace.envs.lm_inference.pod import PodState
from edgeplace.envs.lm_inference.request_log import Outcome, RequestLog
from edgeplace.workloads.lm_inference import MAX_PROMPTS

BACKLOG_SCALE = 50.0
"""Prompts that a backlog feature counts as 1."""
KPI_FEATURES = 2 * NUM_LMS + 3
"""rho_i, T-bar_i / tau, T-bar_norm, F_norm, J."""


def kpi_features(kpis: CohortKpis, deadline_s: float) -> np.ndarray:
    """The KPIs as features: rho_i (0 without arrivals), T-bar_i / tau (1 without arrivals), T-bar_norm,
    F_norm, J. Shapes: -> (2 I + 3,) float64."""
    ratio = np.nan_to_num(kpis.success_ratio, nan=0.0)
    latency = np.nan_to_num(kpis.latency_s / deadline_s, nan=1.0)
    overall = [kpis.mean_latency_s / deadline_s, kpis.jain_norm, kpis.objective]
    return np.concatenate([ratio, latency, overall])


class PodActivity:
    """Per-slot samples of the pods over an epoch. Shapes: every array (N, I)."""

    def __init__(self, num_nodes: int) -> None:
        self._sums = np.zeros((3, num_nodes, NUM_LMS))
        self.slots = 0

    def add(self, view: ClusterView) -> None:
        """Sample a slot: READY pods, READY GPU pods, backlog."""
        ready = view.pod_state == PodState.READY
        self._sums += np.stack([ready, ready & (view.mode == Mode.GPU), view.backlog_prompts])
        self.slots += 1

    def means(self) -> np.ndarray:
        """(active fraction, GPU fraction, backlog prompts) means. Shapes: (3, N, I)."""
        return self._sums / max(self.slots, 1)


@dataclass(frozen=True, eq=False)
class EpochSummary:
    """One epoch's measurements.

    Shapes: requests_per_slot, mean_prompts (I,); active_fraction, gpu_fraction, served_share,
    mean_backlog_prompts (N, I).
    """

    kpis: CohortKpis
    requests_per_slot: np.ndarray
    mean_prompts: np.ndarray
    off_role_ratio: float
    active_fraction: np.ndarray
    gpu_fraction: np.ndarray
    served_share: np.ndarray
    """Share of LM i's successes that node n served."""
    mean_backlog_prompts: np.ndarray

    def features(self, params: LmInferenceParams) -> np.ndarray:
        """The planner's ``telemetry``: per LM rho, T-bar_i / tau, requests per slot / N, mean K / 8;
        T-bar_norm, F_norm, J, off-role ratio; per (n, i) active fraction, GPU fraction, served share,
        backlog / 50. Shapes: -> (4 I + 4 + 4 N I,) float64."""
        kpis = kpi_features(self.kpis, params.deadline_s)
        num_nodes = self.active_fraction.shape[0]
        return np.concatenate(
            [
                kpis[: 2 * NUM_LMS],
                self.requests_per_slot / num_nodes,
                self.mean_prompts / MAX_PROMPTS,
                kpis[2 * NUM_LMS :],
                [self.off_role_ratio],
                self.active_fraction.ravel(),
                self.gpu_fraction.ravel(),
                self.served_share.ravel(),
                self.mean_backlog_prompts.ravel() / BACKLOG_SCALE,
            ]
        )

    def demand(self) -> np.ndarray:
        """Prompts per slot per LM over the most one slot can bring (N origins x 8). Shapes: (I,)."""
        num_nodes = self.active_fraction.shape[0]
        return self.requests_per_slot * self.mean_prompts / (num_nodes * MAX_PROMPTS)

    def case_features(self, weights: np.ndarray, params: LmInferenceParams) -> np.ndarray:
        """A memory case: rho_i, T-bar_i / tau, F_norm, T-bar_norm, J, demand, w / 4.

        Shapes: weights (I, N) -> (3 I + 3 + I N,) float64.
        """
        kpis = kpi_features(self.kpis, params.deadline_s)
        overall = [self.kpis.jain_norm, self.kpis.mean_latency_s / params.deadline_s, self.kpis.objective]
        return np.concatenate([kpis[: 2 * NUM_LMS], overall, self.demand(), weights.ravel() / MAX_WEIGHT])

    def context(self) -> np.ndarray:
        """The memory's context key: requests per slot / N, mean K / 8 (per LM) and each node's
        availability (mean active fraction over LMs). Shapes: (2 I + N,)."""
        num_nodes = self.active_fraction.shape[0]
        return np.concatenate(
            [
                self.requests_per_slot / num_nodes,
                self.mean_prompts / MAX_PROMPTS,
                self.active_fraction.mean(axis=1),
            ]
        )


def summarise_epoch(
    log: RequestLog,
    off_role: np.ndarray,
    first_slot: int,
    end_slot: int,
    activity: PodActivity,
    params: LmInferenceParams,
) -> EpochSummary:
    """The summary of slots [first_slot, end_slot).

    Shapes: off_role (R,) bool, whether each routed request went to a node without its LM in role.
    """
    start_s, end_s = first_slot * params.slot_s, end_slot * params.slot_s
    resolved = (log.resolved_s >= start_s) & (log.resolved_s < end_s)
    released = slice(log.slot_start[first_slot], log.slot_start[end_slot])
    lm = log.lm[released]
    requests = np.bincount(lm, minlength=NUM_LMS)
    prompts = np.bincount(lm, weights=log.prompts[released], minlength=NUM_LMS)
    served = resolved & (log.outcome == Outcome.SUCCESS)
    num_nodes = activity.means().shape[1]
    by_node = np.zeros((num_nodes, NUM_LMS))
    np.add.at(by_node, (log.dest[served], log.lm[served]), 1.0)
    total = by_node.sum(axis=0, keepdims=True)
    active, gpu, backlog = activity.means()
    return EpochSummary(
        kpis=cohort_kpis(log, resolved, params),
        requests_per_slot=requests / (end_slot - first_slot),
        mean_prompts=np.divide(prompts, requests, out=np.zeros(NUM_LMS), where=requests > 0),
        off_role_ratio=float(off_role[released].mean()) if lm.size else 0.0,
        active_fraction=active,
        gpu_fraction=gpu,
        served_share=np.divide(by_node, total, out=np.zeros_like(by_node), where=total > 0),
        mean_backlog_prompts=backlog,
    )
