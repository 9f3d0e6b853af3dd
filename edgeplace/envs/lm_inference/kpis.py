"""The KPIs of section b over a cohort of requests: rho_i, Jain F, F_norm, T-bar (Eq. 9), T-bar_type,
per-LM latency and the objective J (Eq. 10).

Edge cases (spec b, "(ours)"):
- LM types without arrivals in the cohort are left out of F and T-bar_type (I counts the others);
  with none at all, F := 1/I and F_norm := 0; with one, F = F_norm = 1.
- All rho_i = 0 gives F := 1/I (so F_norm = 0).
- No successes: T-bar_norm := 1 (T-bar = tau); an LM without successes has T-bar_i := tau.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from edgeplace.envs.lm_inference.lm_types import LM_LABELS, NUM_LMS
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.request_log import Outcome, RequestLog


class LmKpi(StrEnum):
    """Flat KPI keys (per-LM keys add ``_LM1`` .. ``_LM4``)."""

    MEAN_LATENCY_S = "mean_latency_s"
    TYPE_MEAN_LATENCY_S = "type_mean_latency_s"
    JAIN = "jain"
    JAIN_NORM = "jain_norm"
    OBJECTIVE = "objective"
    SUCCESS_RATIO = "success_ratio"
    LATENCY_S = "latency_s"
    ARRIVALS = "arrivals"


def jain(ratios: np.ndarray) -> tuple[float, float]:
    """Jain's index F (Eq. 6) and its normalisation F_norm (Eq. 8) of success ratios.

    Shapes: ratios (I',) over the LM types counted (see the module docstring for the edge cases).
    """
    ratios = np.asarray(ratios, dtype=np.float64)
    count = ratios.size
    if count == 0:
        return 1.0 / NUM_LMS, 0.0
    if count == 1:
        return 1.0, 1.0
    square_sum = float(np.square(ratios).sum())
    index = 1.0 / count if square_sum == 0 else float(ratios.sum() ** 2 / (count * square_sum))
    return index, (index - 1.0 / count) / (1.0 - 1.0 / count)


@dataclass(frozen=True, eq=False)
class CohortKpis:
    """KPIs of one cohort of requests.

    Shapes: arrivals, successes (I,) int64; success_ratio, latency_s (I,) float64 (NaN for an LM
    without arrivals). Latencies in s.
    """

    arrivals: np.ndarray
    successes: np.ndarray
    success_ratio: np.ndarray
    latency_s: np.ndarray
    """T-bar_i: mean latency of LM i's successes."""
    mean_latency_s: float
    """T-bar of Eq. 9 in seconds (request-weighted over successes)."""
    type_mean_latency_s: float
    """T-bar_type: mean over LMs of T-bar_i."""
    jain: float
    jain_norm: float
    objective: float
    """J = lambda T-bar_norm + (1 - lambda)(1 - F_norm)."""

    def as_dict(self) -> dict[str, float]:
        """Flat ``{LmKpi[_LMi]: value}`` for infos and tables."""
        out = {
            LmKpi.MEAN_LATENCY_S.value: self.mean_latency_s,
            LmKpi.TYPE_MEAN_LATENCY_S.value: self.type_mean_latency_s,
            LmKpi.JAIN.value: self.jain,
            LmKpi.JAIN_NORM.value: self.jain_norm,
            LmKpi.OBJECTIVE.value: self.objective,
        }
        for key, values in (
            (LmKpi.SUCCESS_RATIO, self.success_ratio),
            (LmKpi.LATENCY_S, self.latency_s),
            (LmKpi.ARRIVALS, self.arrivals),
        ):
            out.update({f"{key.value}_{label}": float(v) for label, v in zip(LM_LABELS, values, strict=True)})
        return out


def cohort_kpis(log: RequestLog, selected: np.ndarray, params: LmInferenceParams) -> CohortKpis:
    """KPIs of the requests ``selected`` (bool mask or ids). Unresolved ones count as failures.

    Shapes: selected (R,) bool or (R',) int64.
    """
    ids = np.flatnonzero(selected) if np.asarray(selected).dtype == bool else np.asarray(selected)
    lm = log.lm[ids]
    success = log.outcome[ids] == Outcome.SUCCESS
    latency = log.latency_s(params.slot_s)[ids]
    arrivals = np.bincount(lm, minlength=NUM_LMS)
    successes = np.bincount(lm[success], minlength=NUM_LMS)
    latency_sum = np.bincount(lm[success], weights=latency[success], minlength=NUM_LMS)
    seen = arrivals > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(seen, successes / arrivals, np.nan)
        by_type = np.where(successes > 0, latency_sum / successes, np.where(seen, params.deadline_s, np.nan))
    mean_latency = float(latency_sum.sum() / successes.sum()) if successes.sum() else params.deadline_s
    type_mean = float(by_type[seen].mean()) if seen.any() else params.deadline_s
    index, index_norm = jain(ratio[seen])
    weight = params.latency_weight
    objective = weight * mean_latency / params.deadline_s + (1.0 - weight) * (1.0 - index_norm)
    return CohortKpis(
        arrivals=arrivals,
        successes=successes,
        success_ratio=ratio,
        latency_s=by_type,
        mean_latency_s=mean_latency,
        type_mean_latency_s=type_mean,
        jain=index,
        jain_norm=index_norm,
        objective=float(objective),
    )


def cohort_mask(log: RequestLog, first_slot: int, end_slot: int) -> np.ndarray:
    """Requests that arrived in slots [first_slot, end_slot). Shapes: (R,) bool."""
    return (log.slot >= first_slot) & (log.slot < end_slot)


def epoch_objectives(log: RequestLog, epochs: int, params: LmInferenceParams) -> np.ndarray:
    """J (Eq. 10) of the requests resolved in each epoch (the window of the planner's telemetry and
    reward). Shapes: -> (epochs,) float64."""
    edges = np.arange(epochs + 1) * params.epoch_slots * params.slot_s
    return np.array(
        [
            cohort_kpis(log, (log.resolved_s >= start) & (log.resolved_s < end), params).objective
            for start, end in zip(edges[:-1], edges[1:], strict=True)
        ]
    )
