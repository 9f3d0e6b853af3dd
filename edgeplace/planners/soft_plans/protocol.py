"""What a soft planner of the metaverse-dag scenario reads and returns (papers/llm-mappo.md, section d):
the env hands a :class:`PlanContext` to :meth:`SoftPlanner.plan` and gets one :class:`AgentPlan` per
agent it asked for; when an agent's plan window closes it hands back a :class:`WindowOutcome`.

Everything is numpy. Option indices follow the env's per-region option list: the region's edge servers
(padded), its EC, the cloud, then NONE (last).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Protocol

import numpy as np

NUM_WEIGHTS = 4
"""w: the Eq. 13 cost weights (latency, resources, balance, success)."""
NUM_PENALTIES = 3
"""psi: the Eq. 19 penalty weights."""
TELEMETRY_SERIES = ("rate", "cpu_util", "latency", "violations", "utility")
"""Columns of :attr:`PlanContext.telemetry`."""
TELEMETRY_STEPS = 6


class PlanEvent(StrEnum):
    """Why the planner is called (section d, "Cadence")."""

    RESET = "reset"
    PERIOD = "period"
    NODE_DOWN = "node_down"
    NODE_UP = "node_up"
    RATE_SURGE = "rate_surge"


class Tier(IntEnum):
    """Tier of a placement option."""

    ES = 0
    EC = 1
    CLOUD = 2
    NONE = 3


@dataclass(frozen=True, eq=False)
class PlanContext:
    """The network, workload and placement state a plan is made from (all regions; plan ``agents``).

    Shapes (K regions, O options, S slots, E DAG-edge entries, C classes, M padded microservices):
        agents: (A,) int64 region indices to plan for.
        option_tier, option_zone: (K, O) int64 (:class:`Tier`; zone 0..2 dense/medium/suburban, -1 off ES).
        capacity, free: (K, O, 2) vCPU and RAM GB (0 on padding and NONE).
        util: (K, O) reserved cpu share; up: (K, O) bool; centroid_delay_s: (K, O) delay to the region's
            load centroid, s.
        link_index: (K, 2, L) int64 option indices of each region link's ends; link_valid: (K, L) bool;
            link_feats: (K, L, 6) free slice bandwidth (3), util, delay / 10 ms, up (the observation's).
        place_mask: (K, S, O) bool, the env's place masks.
        telemetry: (K, 6, 5) the last 6 steps of :data:`TELEMETRY_SERIES` (zeros before the first).
        slot_class, slot_ms, slot_rep: (S,) int64; slot_valid: (S,) bool; slot_cpu, slot_ram_gb: (S,);
            slot_quantile: (S,) topological quantile in [0, 1]; slot_load: (K, S) the replicas' worth of
            CPU load the slot's microservice carried last step (sum of its replicas' rho), 0 at reset.
        edge_src, edge_dst: (E,) slots of replica 0 of each DAG edge's ends; edge_valid: (E,) bool.
        parents: (C, M, M) bool, ``parents[c, j, i]``: i -> j; num_ms: (C,) int64; demand_tier: (C, M)
            int64 0 light, 1 medium, 2 heavy; deadline_s: (C,) the episode's class deadlines l^max, s.
        choice: (K, S) int64 current option of every slot.
        r_max: replica slots per microservice.
        static_weights: (4,) Eq. 13's omega; static_phi: phi0.
    """

    event: PlanEvent
    seed: int
    """Seeds whatever the backend samples for this call (drawn from the env's episode generator)."""
    hour: float
    time_s: float
    agents: np.ndarray
    option_tier: np.ndarray
    option_zone: np.ndarray
    capacity: np.ndarray
    free: np.ndarray
    util: np.ndarray
    up: np.ndarray
    centroid_delay_s: np.ndarray
    link_index: np.ndarray
    link_valid: np.ndarray
    link_feats: np.ndarray
    place_mask: np.ndarray
    telemetry: np.ndarray
    slot_class: np.ndarray
    slot_ms: np.ndarray
    slot_rep: np.ndarray
    slot_valid: np.ndarray
    slot_cpu: np.ndarray
    slot_ram_gb: np.ndarray
    slot_quantile: np.ndarray
    slot_load: np.ndarray
    edge_src: np.ndarray
    edge_dst: np.ndarray
    edge_valid: np.ndarray
    parents: np.ndarray
    num_ms: np.ndarray
    demand_tier: np.ndarray
    deadline_s: np.ndarray
    choice: np.ndarray
    r_max: int
    static_weights: np.ndarray
    static_phi: float

    @property
    def num_regions(self) -> int:
        """K."""
        return int(self.option_tier.shape[0])

    @property
    def num_options(self) -> int:
        """O."""
        return int(self.option_tier.shape[1])

    @property
    def num_slots(self) -> int:
        """S."""
        return int(self.slot_class.size)


@dataclass(frozen=True, eq=False)
class AgentPlan:
    """One agent's soft plan (section d).

    Shapes: w (4,) on the simplex; p (S, O), each row a distribution over the slot's allowed options;
    psi (3,) in (0, 1); z_plan (64,) (Eq. 9).
    """

    w: np.ndarray
    p: np.ndarray
    psi: np.ndarray
    phi: float
    r_hat: float
    z_plan: np.ndarray
    source: str
    """Which backend produced it (``heuristic``, ``memory``, ``http``, ``fallback``)."""
    candidates: int = 1
    """B, the candidate plans it was chosen from."""

    def bindings(self, slot_valid: np.ndarray) -> np.ndarray:
        """(slot, option) pairs of the argmax of every real slot. Shapes: (S,) bool -> (S_real, 2) int64."""
        slots = np.flatnonzero(slot_valid)
        return np.column_stack([slots, self.p[slots].argmax(axis=1)]).astype(np.int64)


@dataclass(frozen=True, eq=False)
class WindowOutcome:
    """What one agent's plan window realised: handed to :meth:`SoftPlanner.record` when it closes.

    Shapes: choice (S,) options at the window's end; slot_rho, slot_sojourn_s (S,) window means;
    kpis (3,) window means of latency / l_max, violations and cpu utilisation.
    """

    agent: int
    context: PlanContext
    plan: AgentPlan
    utility: float
    """Mean U of the window."""
    kpis: np.ndarray
    choice: np.ndarray
    slot_rho: np.ndarray
    slot_sojourn_s: np.ndarray
    steps: int
    duration_s: float
    """Simulated seconds the window lasted."""


class SoftPlanner(Protocol):
    """A planner backend: ``plan`` for the context's agents, ``record`` each closed window."""

    name: str

    def plan(self, context: PlanContext) -> dict[int, AgentPlan]:
        """A plan for every region index in ``context.agents``."""
        ...

    def record(self, outcome: WindowOutcome) -> None:
        """Learn from (or store) one closed window."""
        ...
