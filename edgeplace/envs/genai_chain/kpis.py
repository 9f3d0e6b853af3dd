"""Episode KPIs of the genai-chain scenario (spec d, "Metrics")."""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from edgeplace.envs.genai_chain.system_model import StageOutcome


class ChainKPI(StrEnum):
    """KPI names reported at episode end (``infos[agent][KPI_INFO_KEY]``)."""

    SLA_SATISFACTION = "sla_satisfaction"  # fraction of requests with T_e2e <= sum of stage deadlines
    UTILITY = "utility"  # sum of U_total over the episode's decisions (penalty excluded)
    LATENCY_S = "latency_s"  # mean end-to-end latency per request, seconds
    COMM_OVERHEAD_S = "comm_overhead_s"  # sum of T_comm over the episode, seconds
    NODE_USAGE_CV = "node_usage_cv"  # CV of decision counts over nodes used at least once
    NODES_USED = "nodes_used"  # distinct nodes used
    NODES_USED_FRACTION = "nodes_used_fraction"  # distinct nodes used / N
    OVERLOAD = "overload"  # sum of the overload penalties' load excess


class StageInfo(StrEnum):
    """Keys of the per-step ``infos`` of the acting agent."""

    NODE = "node"
    LATENCY_S = "latency_s"
    COMM_S = "comm_s"
    UTILITY = "utility"

    @staticmethod
    def of(outcome: StageOutcome) -> dict[str, float]:
        return {
            StageInfo.NODE: outcome.node,
            StageInfo.LATENCY_S: outcome.latency_s,
            StageInfo.COMM_S: outcome.comm_s,
            StageInfo.UTILITY: outcome.utility,
        }


class ChainKPIs:
    """Accumulates one episode's stage and request outcomes."""

    def __init__(self, num_nodes: int) -> None:
        self.node_decisions = np.zeros(num_nodes, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        self.node_decisions[:] = 0
        self.utility = self.comm_s = self.overload = 0.0
        self.latencies_s: list[float] = []
        self.sla_met = 0

    def record_stage(self, outcome: StageOutcome) -> None:
        self.node_decisions[outcome.node] += 1
        self.utility += outcome.utility
        self.comm_s += outcome.comm_s
        self.overload += outcome.overload

    def record_request(self, latency_s: float, deadline_s: float) -> None:
        self.latencies_s.append(latency_s)
        self.sla_met += latency_s <= deadline_s

    def summary(self) -> dict[str, float]:
        used = self.node_decisions[self.node_decisions > 0]
        cv = float(used.std() / used.mean()) if used.size else 0.0
        requests = max(len(self.latencies_s), 1)
        return {
            ChainKPI.SLA_SATISFACTION: self.sla_met / requests,
            ChainKPI.UTILITY: self.utility,
            ChainKPI.LATENCY_S: float(np.mean(self.latencies_s)) if self.latencies_s else 0.0,
            ChainKPI.COMM_OVERHEAD_S: self.comm_s,
            ChainKPI.NODE_USAGE_CV: cv,
            ChainKPI.NODES_USED: float(used.size),
            ChainKPI.NODES_USED_FRACTION: used.size / self.node_decisions.size,
            ChainKPI.OVERLOAD: self.overload,
        }
