"""Episode KPIs and step infos of the dnn-inference scenario (spec: papers/hisper.md, section e)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import numpy as np

from edgeplace.envs.dnn_inference.state import agent_service
from edgeplace.envs.dnn_inference.system_model import SlotOutcome
from edgeplace.workloads.dnn_inference import Service


class DnnKPI(StrEnum):
    """Scenario-level KPIs reported at episode end (``infos[agent][KPI_INFO_KEY]``)."""

    REWARD = "reward"  # sum of r over the episode
    R_ACC = "r_acc"  # sum of r1 (standardised accuracy, -100 per rejection)
    R_DELAY = "r_delay"  # sum of r2 = -total delay, s
    R_COST = "r_cost"  # sum of r3 = -total cost, $
    FAILURE_RATE = "failure_rate"  # rejected / all requests
    ACCEPTED_ACCURACY = "accepted_accuracy"  # mean standardised accuracy of accepted requests
    DELAY_PER_REQUEST_S = "delay_per_request_s"  # mean d_u over all requests, s
    COST_PER_SLOT = "cost_per_slot"  # mean Psi(t), $
    SHARING_RATIO = "sharing_ratio"  # share of accepted requests served by an instance created earlier
    JAIN_ACCURACY_OD = "jain_accuracy_od"  # Jain index of the OD agents' served accuracy
    JAIN_ACCURACY_MOT = "jain_accuracy_mot"  # Jain index of the MOT agents' served accuracy


class AgentKPI(StrEnum):
    """Per-agent KPIs, reported as ``"<agent>/<kpi>"`` (see :func:`agent_kpi`); means per slot."""

    ACCURACY = "accuracy"  # Acc_n of the reward: standardised accuracy, or -100 when rejected
    SERVED_ACCURACY = "served_accuracy"  # standardised accuracy when accepted, else 0 (Jain's input)
    DELAY_S = "delay_s"  # d_u, s
    COST = "cost"  # own routing + compute cost plus an equal share of the instance memory, $
    FAILURE_RATE = "failure_rate"


class StepInfo(StrEnum):
    """Keys of every agent's per-step ``infos``: the team's reward parts (for hybrid reward
    architectures) and the agent's own request."""

    R_ACC = "r_acc"
    R_DELAY = "r_delay"
    R_COST = "r_cost"
    ACCEPTED = "accepted"
    DELAY_S = "delay_s"
    COST = "cost"


def agent_kpi(agent_id: str, kpi: AgentKPI) -> str:
    """Key of a per-agent KPI, e.g. ``"od_0/accuracy"``."""
    return f"{agent_id}/{kpi.value}"


def step_infos(agents: Sequence[str], outcome: SlotOutcome) -> dict[str, dict[str, float]]:
    """Every agent's ``infos`` for a slot (reward parts are the team's, the rest the agent's own)."""
    team = {StepInfo.R_ACC: outcome.r_acc, StepInfo.R_DELAY: outcome.r_delay, StepInfo.R_COST: outcome.r_cost}
    accepted, delay, cost = outcome.accepted.tolist(), outcome.delay_s.tolist(), outcome.agent_cost.tolist()
    return {
        agent: {
            **team,
            StepInfo.ACCEPTED: float(accepted[n]),
            StepInfo.DELAY_S: delay[n],
            StepInfo.COST: cost[n],
        }
        for n, agent in enumerate(agents)
    }


def jain_index(values: np.ndarray) -> float:
    """(sum x)^2 / (n sum x^2) of non-negative values; 1.0 when all are 0. Shapes: (n,) -> scalar."""
    square_sum = float(np.square(values).sum())
    return float(values.sum() ** 2 / (values.size * square_sum)) if square_sum > 0 else 1.0


class EpisodeKPIs:
    """Accumulates one episode's slot outcomes (per request in agent order)."""

    def __init__(self, agents: Sequence[str]) -> None:
        self.agents = tuple(agents)
        self.services = np.array([agent_service(agent) for agent in self.agents])
        self.reset()

    def reset(self) -> None:
        r = len(self.agents)
        self.slots = 0
        self.reward_parts = np.zeros(3)  # r1, r2, r3
        self.accepted = np.zeros(r)
        self.accuracy = np.zeros(r)
        self.served_accuracy = np.zeros(r)
        self.delay_s = np.zeros(r)
        self.cost = np.zeros(r)
        self.instances = 0

    def record(self, outcome: SlotOutcome) -> None:
        self.slots += 1
        self.reward_parts += (outcome.r_acc, outcome.r_delay, outcome.r_cost)
        self.accepted += outcome.accepted
        self.accuracy += outcome.accuracy
        self.served_accuracy += np.where(outcome.accepted, outcome.accuracy_std, 0.0)
        self.delay_s += outcome.delay_s
        self.cost += outcome.agent_cost
        self.instances += int(outcome.new_instance.sum())

    def summary(self) -> dict[str, float]:
        slots = max(self.slots, 1)
        accepted = float(self.accepted.sum())
        requests = slots * len(self.agents)
        served = self.served_accuracy / slots
        out = {
            DnnKPI.REWARD: float(self.reward_parts.sum()),
            DnnKPI.R_ACC: float(self.reward_parts[0]),
            DnnKPI.R_DELAY: float(self.reward_parts[1]),
            DnnKPI.R_COST: float(self.reward_parts[2]),
            DnnKPI.FAILURE_RATE: 1.0 - accepted / requests,
            DnnKPI.ACCEPTED_ACCURACY: float(self.served_accuracy.sum()) / accepted if accepted else 0.0,
            DnnKPI.DELAY_PER_REQUEST_S: float(self.delay_s.sum()) / requests,
            DnnKPI.COST_PER_SLOT: -float(self.reward_parts[2]) / slots,
            DnnKPI.SHARING_RATIO: (accepted - self.instances) / accepted if accepted else 0.0,
            DnnKPI.JAIN_ACCURACY_OD: jain_index(served[self.services == Service.OD]),
            DnnKPI.JAIN_ACCURACY_MOT: jain_index(served[self.services == Service.MOT]),
        }
        per_agent = {
            AgentKPI.ACCURACY: self.accuracy / slots,
            AgentKPI.SERVED_ACCURACY: served,
            AgentKPI.DELAY_S: self.delay_s / slots,
            AgentKPI.COST: self.cost / slots,
            AgentKPI.FAILURE_RATE: 1.0 - self.accepted / slots,
        }
        for kpi, values in per_agent.items():
            out.update(
                {agent_kpi(agent, kpi): float(v) for agent, v in zip(self.agents, values, strict=True)}
            )
        return out
