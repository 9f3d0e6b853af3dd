"""The episode KPIs of the metaverse-dag scenario (papers/llm-mappo.md, section b "Metrics") and their
accumulation over the steps of an episode."""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from edgeplace.envs.metaverse_dag.fluid import StepOutcome
from edgeplace.envs.metaverse_dag.metrics import StepMetrics


class MvKpi(StrEnum):
    """Episode KPIs (means over the episode's steps unless stated)."""

    UTILITY = "utility"
    """U = 1 + clip(r, -1, 0), mean over agents and steps."""
    REWARD = "reward"
    """r^k (Eq. 20), mean over agents and steps."""
    MEAN_LATENCY_MS = "mean_latency_ms"
    P95_LATENCY_MS = "p95_latency_ms"
    P99_LATENCY_MS = "p99_latency_ms"
    """Over every sampled request of the episode (Table 4's tail latencies)."""
    VIOLATION_RATE = "violation_rate"
    SUCCESS_PROB = "success_prob"
    """P-bar (Eq. 18)."""
    LB = "lb"
    LB_CV = "lb_cv"
    SIGMA_R = "sigma_r"
    R_TOT_RATIO = "r_tot_ratio"
    """R_tot / R_max."""
    BUSY_FRACTION = "busy_fraction"
    """Mean min(rho, 1) over running replicas."""
    CPU_UTIL = "cpu_util"
    """Mean reserved / capacity CPU over the ES."""
    BANDWIDTH_UTIL = "bandwidth_util"
    """Carried / available slice bandwidth over all links."""
    MIGRATIONS = "migrations"
    """Replicas moved between nodes, total over the episode."""
    CLOUD_SHARE = "cloud_share"
    """Share of running replicas on the cloud."""
    RECOVERY_S = "recovery_s"
    """Fig. 7: seconds from the disturbance (failure or surge) until the first step from which success is
    >= 99 % of its pre-disturbance mean and latency <= 1.1x its pre-disturbance mean for the rest of the
    episode; the time to the episode's end if never (censored); 0 without a disturbance or before any
    undisturbed step."""
    PEAK_LATENCY_RATIO = "peak_latency_ratio"
    """Fig. 7b: the highest step mean latency from the disturbance on over its pre-disturbance mean (1
    without a disturbance)."""


EPISODE_KPIS = tuple(MvKpi)
_MEANS = {
    MvKpi.LB: "lb",
    MvKpi.LB_CV: "lb_cv",
    MvKpi.SIGMA_R: "sigma_r",
    MvKpi.R_TOT_RATIO: "r_tot_ratio",
    MvKpi.BUSY_FRACTION: "busy_fraction",
    MvKpi.CPU_UTIL: "cpu_util",
    MvKpi.BANDWIDTH_UTIL: "bandwidth_util",
    MvKpi.CLOUD_SHARE: "cloud_share",
    MvKpi.SUCCESS_PROB: "success",
    MvKpi.VIOLATION_RATE: "violations",
}


RECOVERED_SUCCESS = 0.99
RECOVERED_LATENCY = 1.1


class KpiLog:
    """The steps of one episode, reduced to :data:`EPISODE_KPIS` at its end.

    Args:
        disturbance_step: the step a failure or surge starts at (None: undisturbed).
        step_s: seconds per step.
    """

    def __init__(self, disturbance_step: int | None = None, step_s: float = 10.0) -> None:
        self.disturbance_step, self.step_s = disturbance_step, step_s
        self.metrics: list[StepMetrics] = []
        self.latency_s: list[np.ndarray] = []
        self.migrations = 0

    def add(self, metrics: StepMetrics, outcome: StepOutcome, migrations: int) -> None:
        """Record one step."""
        self.metrics.append(metrics)
        self.latency_s.append(outcome.latency_s)
        self.migrations += migrations

    def kpis(self) -> dict[str, float]:
        """The episode's KPIs (every value a float)."""
        latency_ms = 1e3 * np.concatenate(self.latency_s)
        values = {
            kpi: float(np.mean([getattr(m, name) for m in self.metrics])) for kpi, name in _MEANS.items()
        }
        values[MvKpi.UTILITY] = float(np.mean([m.utility.mean() for m in self.metrics]))
        values[MvKpi.REWARD] = float(np.mean([m.reward.mean() for m in self.metrics]))
        values[MvKpi.MEAN_LATENCY_MS] = float(latency_ms.mean())
        values[MvKpi.P95_LATENCY_MS] = float(np.percentile(latency_ms, 95))
        values[MvKpi.P99_LATENCY_MS] = float(np.percentile(latency_ms, 99))
        values[MvKpi.MIGRATIONS] = float(self.migrations)
        values[MvKpi.RECOVERY_S], values[MvKpi.PEAK_LATENCY_RATIO] = self.recovery()
        return {str(kpi): values[kpi] for kpi in EPISODE_KPIS}

    def recovery(self) -> tuple[float, float]:
        """(recovery seconds, peak latency ratio) of the disturbance (see :class:`MvKpi`)."""
        start = self.disturbance_step
        if start is None or start == 0 or start >= len(self.metrics):
            return 0.0, 1.0
        latency = np.array([m.latency_s for m in self.metrics])
        success = np.array([m.success for m in self.metrics])
        base_latency, base_success = latency[:start].mean(), success[:start].mean()
        good = (success[start:] >= RECOVERED_SUCCESS * base_success) & (
            latency[start:] <= RECOVERED_LATENCY * base_latency
        )
        bad = np.flatnonzero(~good)
        steps = 0 if bad.size == 0 else int(bad[-1]) + 1  # recovered from the step after the last bad one
        return steps * self.step_s, float(latency[start:].max() / base_latency)
