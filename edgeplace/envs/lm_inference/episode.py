"""One evaluation run of a controller (spec f, "Protocol"; spec c, "Metrics").

A run of E epochs simulates E x 50 slots. KPIs are taken over the cohorts of slots
[50 x ``warmup_epochs``, E x 50 - ``drain_slots``): the first epoch is warm-up (no bias from the empty
start), and the last 30 slots are the drain (requests keep arriving, so the load stays steady, but
are not measured; every measured request has resolved by the end, since tau = 30 slots).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.hierarchy import Hierarchy, run_hierarchy
from edgeplace.envs.lm_inference.kpis import CohortKpis, cohort_kpis, cohort_mask
from edgeplace.envs.lm_inference.lm_types import NUM_LMS
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.reconfigure import ReconfigCounts
from edgeplace.envs.lm_inference.simulator import LmInferenceSim
from edgeplace.workloads.lm_inference import Workload, draw_prompts

WORKLOAD_STREAM = 0
"""``np.random.default_rng([seed, WORKLOAD_STREAM])`` draws a run's workload."""


@dataclass(frozen=True)
class RunSpec:
    """Length and measured window of an evaluation run."""

    epochs: int = 12
    warmup_epochs: int = 1
    drain_slots: int = 30
    workload: Workload = Workload.STEADY

    def __post_init__(self) -> None:
        if self.epochs <= self.warmup_epochs or self.warmup_epochs < 0 or self.drain_slots < 0:
            raise ValueError(f"RunSpec: need epochs > warmup_epochs >= 0 and drain_slots >= 0, got {self}")

    def slots(self, params: LmInferenceParams) -> int:
        """Slots simulated."""
        return self.epochs * params.epoch_slots

    def cohort_slots(self, params: LmInferenceParams) -> tuple[int, int]:
        """[first, end) slots whose requests are measured."""
        first, end = self.warmup_epochs * params.epoch_slots, self.slots(params) - self.drain_slots
        if end <= first:
            raise ValueError(f"RunSpec: the drain leaves no measured slot ({first} >= {end})")
        return first, end


@dataclass(frozen=True, eq=False)
class RunResult:
    """What a run measured."""

    kpis: CohortKpis
    counts: ReconfigCounts
    """Reconfigurations over the whole run (restarts, voided actions, ...)."""


def run_episode(
    cluster: Cluster,
    hierarchy: Hierarchy,
    seed: int,
    spec: RunSpec | None = None,
    params: LmInferenceParams | None = None,
) -> tuple[LmInferenceSim, RunResult]:
    """Draw the workload of ``seed`` (stream :data:`WORKLOAD_STREAM`), run ``hierarchy`` on it and
    measure the cohorts; returns the finished simulator (for its records) and the result."""
    spec, params = spec or RunSpec(), params or LmInferenceParams()
    rng = np.random.default_rng([seed, WORKLOAD_STREAM])
    prompts = draw_prompts(
        rng,
        spec.slots(params),
        cluster.num_nodes,
        NUM_LMS,
        workload=spec.workload,
        epoch_slots=params.epoch_slots,
    )
    sim = LmInferenceSim(cluster, prompts, params)
    run_hierarchy(sim, hierarchy)
    first, end = spec.cohort_slots(params)
    return sim, RunResult(cohort_kpis(sim.log, cohort_mask(sim.log, first, end), params), sim.counts)
