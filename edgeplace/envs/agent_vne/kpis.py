"""Episode KPIs of the agent-vne scenario (papers/agentvne.md, section b, "Metrics").

Per-step values (H_t of Eq.26, live workflows, utilisation, Eq.14) are recorded at the end of every
unit step; per-request values at each arrival. Both are summarised over the window t > warmup_steps
(the whole episode when it ends before the warm-up does).
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from edgeplace.envs.agent_vne.network_state import LiveWorkflow


class VNEKPI(StrEnum):
    """KPI names reported at episode end (``infos[agent][KPI_INFO_KEY]``)."""

    WEIGHTED_HOPS = "weighted_hops"  # mean of H_t (Eq.26) over window steps with a live workflow
    WEIGHTED_HOPS_STD = "weighted_hops_std"  # std of the same H_t
    ACCEPTANCE_RATIO = "acceptance_ratio"  # SAR: accepted / arrived in the window
    REVENUE = "revenue"  # sum over accepted requests of sum demand + sum b_uv
    COST = "cost"  # sum over accepted requests of sum demand + sum b_uv * route hops
    REVENUE_COST_RATIO = "revenue_cost_ratio"  # revenue / cost
    SOLVE_TIME_S = "solve_time_s"  # mean wall-clock per request: policy (obs -> action) + validation + commit
    LATENCY_S = "latency_s"  # mean Eq.5-6 latency of accepted workflows at commit, seconds
    UTILISATION = "utilisation"  # mean over window steps of mean node utilisation (all resources)
    OBJECTIVE = "objective"  # mean over window steps of Eq.14 (omega1 = omega2 = 1)
    LIVE_WORKFLOWS = "live_workflows"  # mean |W_t| over window steps
    ARRIVALS = "arrivals"  # requests arrived in the window
    ACCEPTED = "accepted"  # requests accepted in the window


class StepInfo(StrEnum):
    """Keys of the per-request ``infos`` of the embedder."""

    ACCEPTED = "accepted"
    REASON = "reason"  # why a request was rejected ("" when accepted)
    TIME = "time"  # the arrival step
    WEIGHTED_HOPS = "weighted_hops"  # H right after the decision


def revenue_and_cost(workflow: LiveWorkflow) -> tuple[float, float]:
    """VNE revenue (sum of demands + sum of link bandwidth) and cost (links weighted by route hops)."""
    request = workflow.request
    nodes = float(request.demand.sum())
    return nodes + float(request.bw_mbps.sum()), nodes + float(request.bw_mbps @ workflow.link_hops)


class VNEKPIs:
    """Accumulates one episode's per-step and per-request records."""

    def __init__(self, warmup_steps: int) -> None:
        self.warmup_steps = warmup_steps
        self.reset()

    def reset(self) -> None:
        self._steps: list[tuple[int, float, int, float, float]] = []
        self._requests: list[tuple[int, bool, float, float, float, float]] = []

    @property
    def num_requests(self) -> int:
        """Arrivals recorded so far."""
        return len(self._requests)

    def record_step(
        self, time: int, weighted_hops: float, live: int, utilisation: float, objective: float
    ) -> None:
        """The state at the end of step ``time``."""
        self._steps.append((time, weighted_hops, live, utilisation, objective))

    def record_request(
        self,
        time: int,
        accepted: bool,
        solve_time_s: float,
        revenue: float = 0.0,
        cost: float = 0.0,
        latency_s: float = 0.0,
    ) -> None:
        """One arrival at step ``time`` and its outcome."""
        self._requests.append((time, accepted, solve_time_s, revenue, cost, latency_s))

    def summary(self) -> dict[str, float]:
        steps = _window(np.array(self._steps, dtype=np.float64).reshape(-1, 5), self.warmup_steps)
        requests = _window(np.array(self._requests, dtype=np.float64).reshape(-1, 6), self.warmup_steps)
        busy = steps[steps[:, 2] > 0, 1]
        accepted = requests[:, 1] > 0
        revenue, cost = requests[accepted, 3].sum(), requests[accepted, 4].sum()
        return {
            VNEKPI.WEIGHTED_HOPS: _mean(busy),
            VNEKPI.WEIGHTED_HOPS_STD: float(busy.std()) if busy.size else 0.0,
            VNEKPI.ACCEPTANCE_RATIO: _mean(accepted.astype(np.float64)),
            VNEKPI.REVENUE: float(revenue),
            VNEKPI.COST: float(cost),
            VNEKPI.REVENUE_COST_RATIO: float(revenue / cost) if cost > 0 else 0.0,
            VNEKPI.SOLVE_TIME_S: _mean(requests[:, 2]),
            VNEKPI.LATENCY_S: _mean(requests[accepted, 5]),
            VNEKPI.UTILISATION: _mean(steps[:, 3]),
            VNEKPI.OBJECTIVE: _mean(steps[:, 4]),
            VNEKPI.LIVE_WORKFLOWS: _mean(steps[:, 2]),
            VNEKPI.ARRIVALS: float(requests.shape[0]),
            VNEKPI.ACCEPTED: float(accepted.sum()),
        }


def _window(rows: np.ndarray, warmup_steps: int) -> np.ndarray:
    """Rows with time (column 0) > warmup_steps, or all rows when there are none."""
    inside = rows[rows[:, 0] > warmup_steps]
    return inside if inside.shape[0] else rows


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else 0.0
