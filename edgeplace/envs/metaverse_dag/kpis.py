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
    """Over every sampled request of the episode."""
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


class KpiLog:
    """The steps of one episode, reduced to :data:`EPISODE_KPIS` at its end."""

    def __init__(self) -> None:
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
        values[MvKpi.MIGRATIONS] = float(self.migrations)
        return {str(kpi): values[kpi] for kpi in EPISODE_KPIS}
