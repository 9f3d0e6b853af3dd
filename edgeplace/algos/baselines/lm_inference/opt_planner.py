"""The OPT planner of the rule backend (spec d, "`rule` backend"): a catalogue entry per node chosen by
coordinate descent on a queueing estimate of the objective, turned into routing and roles.

- Demand D_i: exponential moving average (alpha 0.5) of the prompts/s measured over each epoch.
- Service-time correction kappa_i = measured / modelled prompt time, clipped to [0.5, 2] (1 without
  completed prompts); the model time of LM i under entry x is ``kappa_i t_i(x)``.
- For a plan x (one entry per node): C_i = sum_n 1 / t_i(x_n), u_i = D_i / C_i and
  t-bar_i = (nodes running i) / C_i. Score J-hat = sum_i 4.5 t-bar_i / (1 - u_i) if u_i < 0.75, else
  4.5 t-bar_i / 0.25 + 10^4 (u_i - 0.75).
- Search: coordinate descent (each node in turn takes its best entry given the others, until a full
  pass improves nothing) from 20 random starts plus the previous plan; the previous plan is kept
  unless the best improves J-hat by at least 5 %.
- Output: p_in proportional to 1 / t_i(x_n) over the nodes running i, roles = the active sets, the
  entries as ``config_hint``, and D. Epoch 0 (no measurement) gets the uniform plan.

The episodic memory's best case as an extra start, and its veto, come with the memory (not here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgeplace.envs.lm_inference.catalogue import catalogue, entry_prompt_times
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.telemetry import EpochTelemetry

_MIN_CAPACITY = 1e-9
"""Prompts/s standing in for no capacity, so an unserved LM with demand scores huge but finite."""


@dataclass(frozen=True)
class OptSettings:
    """Constants of the OPT planner (spec d)."""

    random_starts: int = 20
    demand_ema: float = 0.5
    """Weight of the newest epoch in D."""
    correction_range: tuple[float, float] = (0.5, 2.0)
    keep_margin: float = 0.05
    """A new plan must lower J-hat by this fraction to replace the previous one."""
    mean_prompts: float = 4.5
    utilisation_cap: float = 0.75
    overload_penalty: float = 1e4

    def __post_init__(self) -> None:
        checks = {
            "random_starts": self.random_starts >= 0,
            "demand_ema": 0 < self.demand_ema <= 1,
            "correction_range": 0 < self.correction_range[0] <= self.correction_range[1],
            "keep_margin": 0 <= self.keep_margin <= 1,
            "mean_prompts": self.mean_prompts > 0,
            "utilisation_cap": 0 < self.utilisation_cap < 1,
            "overload_penalty": self.overload_penalty >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"OptSettings.{name}: out of range, got {getattr(self, name)!r}")


def plan_score(
    capacity: np.ndarray, active: np.ndarray, demand: np.ndarray, settings: OptSettings
) -> np.ndarray:
    """J-hat of plans given their per-LM capacity and active-node counts.

    Shapes: capacity (..., I) prompts/s, active (..., I), demand (I,) prompts/s -> (...).
    """
    capacity = np.maximum(capacity, _MIN_CAPACITY)
    load = demand / capacity
    mean_time = settings.mean_prompts * active / capacity
    cap = settings.utilisation_cap
    stable = mean_time / (1.0 - np.minimum(load, cap))
    overloaded = mean_time / (1.0 - cap) + settings.overload_penalty * (load - cap)
    return np.where(load < cap, stable, overloaded).sum(axis=-1)


class OptPlanner:
    """See the module docstring."""

    def __init__(
        self,
        cluster: Cluster,
        params: LmInferenceParams,
        seed: int | Sequence[int],
        settings: OptSettings | None = None,
    ) -> None:
        self.cluster, self.settings = cluster, settings or OptSettings()
        self.entries = [catalogue(cluster, n, params) for n in range(cluster.num_nodes)]
        self.times = [entry_prompt_times(cluster, n, params) for n in range(cluster.num_nodes)]  # (E_n, I)
        self.rng = np.random.default_rng(seed)
        self.demand: np.ndarray | None = None
        self.choice: np.ndarray | None = None
        """Entry index per node of the plan in force (None before the first searched plan)."""
        self.rates: list[np.ndarray] = []
        """Per node, prompts/s of each LM under each entry, corrected (E_n, I); set by each planning."""

    def plan(self, view: ClusterView, telemetry: EpochTelemetry | None) -> Plan:
        """The plan for the epoch starting now (:class:`Planner` protocol)."""
        if telemetry is None:
            return Plan.uniform(self.cluster)
        s = self.settings
        measured = telemetry.demand_prompts_s
        self.demand = (
            measured if self.demand is None else s.demand_ema * measured + (1 - s.demand_ema) * self.demand
        )
        correction = np.clip(np.nan_to_num(telemetry.service_correction(), nan=1.0), *s.correction_range)
        self.rates = [1.0 / (t * correction) for t in self.times]
        starts = [self.rng.integers(0, [len(e) for e in self.entries]) for _ in range(s.random_starts)]
        previous = None
        if self.choice is not None:
            starts.append(self.choice)
            previous = self.score(self.choice)
        results = [self._descend(start) for start in starts]
        best_choice, best = min(results, key=lambda result: result[1])
        if previous is None or best < (1.0 - s.keep_margin) * previous:
            self.choice = best_choice
        return self._to_plan(self.choice)

    def score(self, choice: np.ndarray) -> float:
        """J-hat of a plan (one catalogue entry index per node) under the last planning's demand and
        service-time correction. Shapes: choice (N,) int."""
        return float(plan_score(*_totals(self.rates, choice), self.demand, self.settings))

    def _descend(self, start: np.ndarray) -> tuple[np.ndarray, float]:
        rates, choice = self.rates, np.array(start)
        capacity, active = _totals(rates, choice)
        best = float(plan_score(capacity, active, self.demand, self.settings))
        improved = True
        while improved:
            improved = False
            for n, node_rates in enumerate(rates):
                base_capacity = capacity - node_rates[choice[n]]
                base_active = active - (node_rates[choice[n]] > 0)
                scores = plan_score(
                    base_capacity + node_rates, base_active + (node_rates > 0), self.demand, self.settings
                )
                entry = int(np.argmin(scores))
                if scores[entry] < best - 1e-12:
                    choice[n], best, improved = entry, float(scores[entry]), True
                    capacity = base_capacity + node_rates[entry]
                    active = base_active + (node_rates[entry] > 0)
        return choice, best

    def _to_plan(self, choice: np.ndarray) -> Plan:
        node_rates = np.stack([r[e] for r, e in zip(self.rates, choice, strict=True)])  # (N, I)
        feasible = self.cluster.can_host
        unserved = node_rates.sum(axis=0) == 0  # such an LM: uniform over its feasible nodes, all in role
        weights = np.where(unserved[None, :], feasible, node_rates)
        total = weights.sum(axis=0, keepdims=True)
        routing = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
        return Plan(
            routing=routing.T,
            roles=weights > 0,
            config_hint=tuple(entries[e] for entries, e in zip(self.entries, choice, strict=True)),
            demand_prompts_s=self.demand.copy(),
        )


def _totals(rates: list[np.ndarray], choice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Capacity (prompts/s) and active-node count per LM of a plan.

    Shapes: rates[n] (E_n, I), choice (N,) -> (I,), (I,).
    """
    chosen = np.stack([node_rates[entry] for node_rates, entry in zip(rates, choice, strict=True)])
    return chosen.sum(axis=0), (chosen > 0).sum(axis=0).astype(np.float64)
