"""The three decision tiers as plain-data protocols, and the loop that runs them on the simulator.

Per slot t (spec d, "Phases"): PLAN (only when t is a multiple of the epoch length; the first plan is
made before any measurement, with ``telemetry`` None) -> ROUTE -> DEPLOY -> simulate. The rule
backend, the baselines, the later RLlib env's agents and Serve all decide through these signatures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.simulator import LmInferenceSim
from edgeplace.envs.lm_inference.telemetry import EpochTelemetry, epoch_telemetry


class Planner(Protocol):
    """Tier 1: a macro policy every epoch."""

    def plan(self, view: ClusterView, telemetry: EpochTelemetry | None) -> Plan:
        """The plan for the epoch starting now; ``telemetry`` covers the previous epoch (None at 0)."""
        ...


class Scheduler(Protocol):
    """Tier 2: a destination per (origin, LM) pair every slot."""

    def route(self, view: ClusterView, plan: Plan) -> np.ndarray:
        """Destinations of this slot's requests (``view.demand``). Shapes: -> (N, I) int64."""
        ...


class Deployer(Protocol):
    """Tier 2: every node's target configuration every slot (None keeps it)."""

    def deploy(self, view: ClusterView, plan: Plan) -> Sequence[NodeConfig | None]:
        """One entry per node, decided on the view after this slot's routing."""
        ...


@dataclass(frozen=True)
class Hierarchy:
    """A full controller: a planner (None: the uniform plan throughout), a scheduler and a deployer."""

    name: str
    planner: Planner | None
    scheduler: Scheduler
    deployer: Deployer


def run_hierarchy(sim: LmInferenceSim, hierarchy: Hierarchy) -> None:
    """Run ``hierarchy`` on ``sim`` from its current slot to the end of the episode."""
    plan = Plan.uniform(sim.cluster)
    epoch = sim.params.epoch_slots
    while not sim.done:
        if hierarchy.planner is not None and sim.slot % epoch == 0:
            telemetry = epoch_telemetry(sim, sim.slot - epoch, sim.slot) if sim.slot >= epoch else None
            plan = hierarchy.planner.plan(sim.view(), telemetry)
        sim.route(hierarchy.scheduler.route(sim.view(), plan))
        sim.deploy(hierarchy.deployer.deploy(sim.view(), plan))
        sim.advance()
