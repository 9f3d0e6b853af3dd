"""The ``heuristic`` planner of papers/llm-mappo.md, section d: binding probabilities p_heur from load and
delay, replica counts from the last step's load, the static weights, and R-hat = the running mean of the
realised window utility. It is also the prior every other backend mixes in (``p = .8 * ... + .2 * p_heur``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from edgeplace.planners.soft_plans.embedding import plan_embedding, plan_summary
from edgeplace.planners.soft_plans.protocol import AgentPlan, PlanContext, WindowOutcome

HEUR_TEMPERATURE = 0.2
DELAY_UNIT_S = 1e-3
"""p_heur's score is util + delay / 1 ms."""
TARGET_RHO = 0.6
"""n*_m = clip(ceil(load_m / .6), 1, R_max) replicas carry microservice m."""
SPARE_NONE_MASS = 0.9
"""Mass a slot beyond n*_m puts on NONE."""
NEUTRAL_PSI = 0.5
"""psi = 1/2 leaves the penalty weights at their static values (rho_t = (1 - kappa) rho + kappa 2 psi)."""
INITIAL_R_HAT = 0.5


def heuristic_bindings(context: PlanContext, region: int) -> np.ndarray:
    """p_heur of one region: softmax of -(util + delay to the load centroid / 1 ms) / .2 over each slot's
    allowed hosts, then :func:`spare_replicas_to_none`.

    Shapes: -> (S, O) float64, rows summing to 1 over the slot's allowed options.
    """
    allowed = context.place_mask[region]  # (S, O)
    hosts = allowed.copy()
    hosts[:, -1] = False
    score = -(context.util[region] + context.centroid_delay_s[region] / DELAY_UNIT_S) / HEUR_TEMPERATURE
    logits = np.where(hosts, score[None, :], -np.inf)
    top = logits.max(axis=1, keepdims=True)
    weights = np.where(hosts, np.exp(logits - np.where(np.isfinite(top), top, 0.0)), 0.0)
    return spare_replicas_to_none(weights, context, region)


def spare_replicas_to_none(weights: np.ndarray, context: PlanContext, region: int) -> np.ndarray:
    """Normalise non-negative binding weights over each slot's allowed options, with the replica rule:
    slots beyond the n*_m = clip(ceil(load_m / .6), 1, R_max) replicas their microservice needs put .9 on
    NONE; slots with no weight on any allowed host (padding) go to NONE.

    Shapes: weights (S, O) -> (S, O) float64.
    """
    allowed = context.place_mask[region]
    none = context.num_options - 1
    hosts = allowed.copy()
    hosts[:, none] = False
    weights = np.where(hosts, weights, 0.0)
    total = weights.sum(axis=1, keepdims=True)
    p = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    needed = np.clip(np.ceil(context.slot_load[region] / TARGET_RHO), 1, context.r_max)
    spare = (context.slot_rep >= needed) & allowed[:, none]
    p = np.where(spare[:, None], (1 - SPARE_NONE_MASS) * p, p)
    p[:, none] = np.where(spare, SPARE_NONE_MASS, 0.0)
    only_none = total[:, 0] <= 0
    p[only_none] = 0.0
    p[only_none, none] = 1.0
    mass = p.sum(axis=1, keepdims=True)
    return p / np.where(mass > 0, mass, 1.0)


class HeuristicPlanner:
    """``heuristic``: p_heur, the static weights and the running mean of the realised utility."""

    name = "heuristic"

    def __init__(self, seed: int = 0, options: Mapping[str, Any] | None = None) -> None:
        if options:
            raise ValueError(f"planner 'heuristic' takes no options, got {sorted(options)}")
        self._utility_sum: dict[int, float] = {}
        self._windows: dict[int, int] = {}

    def r_hat(self, region: int) -> float:
        """The running mean of region ``region``'s realised window utility (.5 before its first)."""
        windows = self._windows.get(region, 0)
        return self._utility_sum[region] / windows if windows else INITIAL_R_HAT

    def plan(self, context: PlanContext) -> dict[int, AgentPlan]:
        plans = {}
        psi = np.full(3, NEUTRAL_PSI)
        for region in context.agents.tolist():
            p = heuristic_bindings(context, region)
            summary = plan_summary(p, context.option_tier[region], context.slot_class, context.slot_valid)
            w, phi = context.static_weights, context.static_phi
            plans[region] = AgentPlan(
                w=w.copy(),
                p=p,
                psi=psi,
                phi=phi,
                r_hat=self.r_hat(region),
                z_plan=plan_embedding(w, summary, psi, phi),
                source=self.name,
            )
        return plans

    def record(self, outcome: WindowOutcome) -> None:
        self._utility_sum[outcome.agent] = self._utility_sum.get(outcome.agent, 0.0) + outcome.utility
        self._windows[outcome.agent] = self._windows.get(outcome.agent, 0) + 1
