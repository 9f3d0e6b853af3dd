"""The OPT planner of the rule backend (spec d, "`rule` backend"): a catalogue entry per node chosen by
coordinate descent on a queueing estimate of the objective, turned into routing and roles.

- Demand D_i: exponential moving average (alpha 0.5) of the prompts/s measured over each epoch.
- Service-time correction kappa_i = measured / modelled prompt time, clipped to [0.5, 2] (1 without
  completed prompts); the model time of LM i under entry x is ``kappa_i t_i(x)``.
- For a plan x (one entry per node): C_i = sum_n 1 / t_i(x_n), u_i = D_i / C_i and
  t-bar_i = (nodes running i) / C_i. Score J-hat = sum_i 4.5 t-bar_i / (1 - u_i) if u_i < 0.75, else
  4.5 t-bar_i / 0.25 + 10^4 (u_i - 0.75).
- Memory (spec d, "Episodic case memory"): one case per measured epoch of a searched plan, its payload
  the plan's entries. Its context is :func:`opt_context` (prompts offered per LM, node availability);
  its objective is the plan's J-hat under that epoch's *measured* demand and service-time correction,
  the planner's measure of the epoch (its telemetry does not carry the Eq. 10 J); its features are
  that demand and correction. The memory can be seeded from a JSONL file and saved after a run.
- Search: coordinate descent (each node in turn takes its best entry given the others, until a full
  pass improves nothing) from 20 random starts plus the previous plan and the memory's best plan in a
  similar context. Veto: a plan whose best recorded J-hat among the similar cases exceeds 1.5 x the
  best recorded there is not chosen; the best candidate that is not vetoed replaces the previous plan
  if it improves J-hat by at least 5 % or the previous plan is vetoed; if every candidate is vetoed,
  the previous plan stays.
- Output: p_in proportional to 1 / t_i(x_n) over the nodes running i, roles = the active sets, the
  entries as ``config_hint``, and D. Epoch 0 (no measurement) gets the uniform plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeplace.envs.lm_inference.case_memory import Case, CaseMemory
from edgeplace.envs.lm_inference.catalogue import catalogue, entry_prompt_times
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.lm_types import NUM_LMS
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.pod import PodState
from edgeplace.envs.lm_inference.telemetry import EpochTelemetry
from edgeplace.workloads.lm_inference import MAX_PROMPTS

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
    veto_ratio: float = 1.5
    """A plan whose best recorded J-hat in a similar context exceeds this times the best there is vetoed."""

    def __post_init__(self) -> None:
        checks = {
            "random_starts": self.random_starts >= 0,
            "demand_ema": 0 < self.demand_ema <= 1,
            "correction_range": 0 < self.correction_range[0] <= self.correction_range[1],
            "keep_margin": 0 <= self.keep_margin <= 1,
            "mean_prompts": self.mean_prompts > 0,
            "utilisation_cap": 0 < self.utilisation_cap < 1,
            "overload_penalty": self.overload_penalty >= 0,
            "veto_ratio": self.veto_ratio >= 1,
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


def opt_context(view: ClusterView, telemetry: EpochTelemetry) -> np.ndarray:
    """The memory's context key of the epoch ``telemetry`` covers, as the planner measures it: prompts
    offered per slot per LM over the most one slot can bring (N origins x 8, as
    :meth:`~edgeplace.envs.lm_inference.epoch_summary.EpochSummary.demand`), then each node's
    availability (its share of LMs READY at the epoch's end, ``view``). Shapes: -> (I + N,)."""
    slots = telemetry.end_slot - telemetry.first_slot
    demand = telemetry.arrived_prompts / (slots * view.num_nodes * MAX_PROMPTS)
    return np.concatenate([demand, (view.pod_state == PodState.READY).mean(axis=1)])


class OptPlanner:
    """See the module docstring.

    Args:
        memory_file: JSONL cases (:meth:`CaseMemory.save` of an earlier planner's :attr:`memory`, on the
            same cluster) that seed the memory.

    Raises:
        ValueError: a bad memory file, naming it, the line and the field.
    """

    def __init__(
        self,
        cluster: Cluster,
        params: LmInferenceParams,
        seed: int | Sequence[int],
        settings: OptSettings | None = None,
        memory_file: str | Path | None = None,
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
        self.memory = CaseMemory(feature_size=2 * NUM_LMS, context_size=NUM_LMS + cluster.num_nodes)
        """One case per measured epoch of a searched plan (see the module docstring)."""
        if memory_file is not None:
            self._seed_memory(memory_file)

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
        context = opt_context(view, telemetry)
        starts = [self.rng.integers(0, [len(e) for e in self.entries]) for _ in range(s.random_starts)]
        previous = None
        if self.choice is not None:
            self._record(context, measured, correction)
            starts.append(self.choice)
            previous = self.score(self.choice)
        similar = self.memory.similar(context)
        if similar:
            starts.append(self._choice_of(min(similar, key=lambda case: case.objective).plan))
        results = sorted((self._descend(start) for start in starts), key=lambda result: result[1])
        self.choice = self._select(results, self.vetoed(similar), previous)
        return self._to_plan(self.choice)

    def configs(self, choice: np.ndarray) -> tuple[NodeConfig, ...]:
        """The entries of a plan. Shapes: choice (N,) int catalogue indices."""
        return tuple(entries[e] for entries, e in zip(self.entries, choice, strict=True))

    def vetoed(self, similar: Sequence[Case]) -> set[tuple[NodeConfig, ...]]:
        """Plans (their entries) whose best J-hat among ``similar`` exceeds ``veto_ratio`` x the best."""
        recorded: dict[tuple[NodeConfig, ...], float] = {}
        for case in similar:
            recorded[case.plan] = min(recorded.get(case.plan, np.inf), case.objective)
        best = min(recorded.values(), default=np.inf)
        return {plan for plan, objective in recorded.items() if objective > self.settings.veto_ratio * best}

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
            config_hint=self.configs(choice),
            demand_prompts_s=self.demand.copy(),
        )

    def _record(self, context: np.ndarray, measured: np.ndarray, correction: np.ndarray) -> None:
        """Store the epoch just measured: the plan in force, scored under the epoch's measured demand and
        service-time correction. Shapes: context (I + N,); measured (I,) prompts/s; correction (I,)."""
        objective = float(plan_score(*_totals(self.rates, self.choice), measured, self.settings))
        features = np.concatenate([measured, correction])
        plan = self.configs(self.choice)
        self.memory.add(Case(features, context, objective, self.memory.next_epoch, plan))

    def _select(
        self,
        results: list[tuple[np.ndarray, float]],
        vetoed: set[tuple[NodeConfig, ...]],
        previous: float | None,
    ) -> np.ndarray:
        """The plan to run among the descents' (plan, J-hat) ``results`` (best first): the best one not
        vetoed if it beats ``previous`` (the plan in force's J-hat, None for the first plan) by the keep
        margin or the plan in force is vetoed; otherwise the plan in force (or, for the first plan, the
        best one even if vetoed)."""
        allowed = [(choice, score) for choice, score in results if self.configs(choice) not in vetoed]
        if previous is None:
            return (allowed or results)[0][0]
        if allowed and (
            self.configs(self.choice) in vetoed
            or allowed[0][1] < (1.0 - self.settings.keep_margin) * previous
        ):
            return allowed[0][0]
        return self.choice

    def _choice_of(self, plan: tuple[NodeConfig, ...] | None) -> np.ndarray:
        """Catalogue indices of a plan's entries. Shapes: -> (N,) int64.

        Raises:
            ValueError: no plan, a plan of another length, or an entry outside its node's catalogue.
        """
        if plan is None or len(plan) != len(self.entries):
            got = "none" if plan is None else len(plan)
            raise ValueError(f"field 'plan': expected {len(self.entries)} node configurations, got {got}")
        for node, (config, entries) in enumerate(zip(plan, self.entries, strict=True)):
            if config not in entries:
                raise ValueError(f"field 'plan': node {node}: {config} is not in the node's catalogue")
        return np.array([entries.index(c) for c, entries in zip(plan, self.entries, strict=True)])

    def _seed_memory(self, path: str | Path) -> None:
        """Load a memory file, checking that every case's plan fits this cluster's catalogues."""
        for line, case in enumerate(self.memory.load(path), start=1):
            try:
                self._choice_of(case.plan)
            except ValueError as err:
                raise ValueError(f"case memory file {str(path)!r}, line {line}: {err}") from None


def _totals(rates: list[np.ndarray], choice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Capacity (prompts/s) and active-node count per LM of a plan.

    Shapes: rates[n] (E_n, I), choice (N,) -> (I,), (I,).
    """
    chosen = np.stack([node_rates[entry] for node_rates, entry in zip(rates, choice, strict=True)])
    return chosen.sum(axis=0), (chosen > 0).sum(axis=0).astype(np.float64)
