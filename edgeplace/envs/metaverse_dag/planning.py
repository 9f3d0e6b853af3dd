"""When the env asks its soft planner for plans, and what it keeps of them (papers/llm-mappo.md,
section d, "Cadence"; section e, trust and blending).

Each agent is planned at reset, every ``plan_period_s``, and on its region's events: a node of the
region going down or coming back, or the region's arrival rate exceeding 1.5x its EMA; event calls of
an agent are at least 30 s apart. A plan applies from the observation that follows it. When an agent's
plan is replaced, and at the episode's end, its window closes and the planner gets a
:class:`~edgeplace.planners.soft_plans.WindowOutcome`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgeplace.envs.metaverse_dag.guidance import Guidance, TrustTracker
from edgeplace.envs.metaverse_dag.metrics import StepMetrics
from edgeplace.planners.soft_plans import (
    PLAN_EMBEDDING_DIM,
    AgentPlan,
    PlanContext,
    PlanEvent,
    SoftPlanner,
    WindowOutcome,
    policy_prior,
)

EVENT_SPACING_S = 30.0
RATE_SURGE = 1.5
RATE_EMA = 0.1
"""Weight of the newest step in a region's rate EMA (the surge reference)."""

ContextFactory = Callable[[PlanEvent, np.ndarray], PlanContext]
"""``(event, agents) -> PlanContext`` built from the env's current state."""


@dataclass
class _Window:
    """One agent's open plan window: its plan, the context it was made from and running sums."""

    plan: AgentPlan
    context: PlanContext
    kpis: np.ndarray
    slot_rho: np.ndarray
    slot_sojourn_s: np.ndarray
    utility: float = 0.0
    steps: int = 0

    @classmethod
    def open(cls, plan: AgentPlan, context: PlanContext) -> _Window:
        slots = context.num_slots
        return cls(plan, context, np.zeros(3), np.zeros(slots), np.zeros(slots))


@dataclass(frozen=True)
class StepRecord:
    """What a step realised per agent. Shapes (K agents, S slots): utility (K,), kpis (K, 3) latency /
    l_max, violations, cpu utilisation; slot_rho, slot_sojourn_s, choice (K, S); region_rate (K,) req/s;
    region_up (K,) all of the region's nodes up."""

    utility: np.ndarray
    kpis: np.ndarray
    slot_rho: np.ndarray
    slot_sojourn_s: np.ndarray
    choice: np.ndarray
    region_rate: np.ndarray
    region_up_count: np.ndarray


class PlanningLoop:
    """The env's side of the planner protocol for K agents; inactive (no plans, kappa = 0) without a
    planner."""

    def __init__(
        self,
        planner: SoftPlanner | None,
        agents: int,
        slots: int,
        options: int,
        *,
        step_s: float,
        period_s: float,
        trust_alpha: float,
        kappa_max: float,
        shaping: bool,
    ) -> None:
        self.planner = planner
        self.agents, self.step_s, self.shaping = agents, step_s, shaping
        self.period_steps = max(1, round(period_s / step_s))
        self.spacing_steps = max(1, round(EVENT_SPACING_S / step_s))
        self._trust_args = (trust_alpha, kappa_max)
        self._shape = (agents, slots, options)
        self.begin_episode()

    @property
    def active(self) -> bool:
        """Whether a planner guides the agents."""
        return self.planner is not None

    def begin_episode(self) -> None:
        """Forget the last episode's plans, windows, trust and rate history."""
        k, s, o = self._shape
        self.trust = TrustTracker(k, *self._trust_args)
        self.windows: list[_Window | None] = [None] * k
        self.p = np.zeros((k, s, o))
        self.z_plan = np.zeros((k, PLAN_EMBEDDING_DIM), np.float32)
        self.w = np.zeros((k, 4))
        self.psi = np.zeros((k, 3))
        self.phi = np.zeros(k)
        self.r_hat = np.zeros(k)
        self.last_call = np.full(k, -self.period_steps)
        self.rate_ema = np.full(k, np.nan)
        self.up_count = np.full(k, -1)
        self.pending: dict[PlanEvent, set[int]] = {}

    # --- per step ----------------------------------------------------------------------------
    def record_step(self, record: StepRecord) -> None:
        """Fold a step's outcome into the open windows, the trust and the event detectors."""
        if not self.active:
            return
        self.trust.observe(record.utility)
        for k, window in enumerate(self.windows):
            if window is None:
                continue
            window.utility += float(record.utility[k])
            window.kpis += record.kpis[k]
            window.slot_rho += record.slot_rho[k]
            window.slot_sojourn_s += record.slot_sojourn_s[k]
            window.steps += 1
        self._choice = record.choice
        self._detect_events(record)

    def _detect_events(self, record: StepRecord) -> None:
        known = self.up_count >= 0
        down = known & (record.region_up_count < self.up_count)
        back = known & (record.region_up_count > self.up_count)
        self.up_count = record.region_up_count.copy()
        surge = ~np.isnan(self.rate_ema) & (record.region_rate > RATE_SURGE * self.rate_ema)
        rate = record.region_rate
        self.rate_ema = np.where(
            np.isnan(self.rate_ema), rate, (1 - RATE_EMA) * self.rate_ema + RATE_EMA * rate
        )
        events = {PlanEvent.NODE_DOWN: down, PlanEvent.NODE_UP: back, PlanEvent.RATE_SURGE: surge}
        for event, hit in events.items():
            if hit.any():
                self.pending.setdefault(event, set()).update(np.flatnonzero(hit).tolist())

    def refresh(self, step: int, make_context: ContextFactory) -> None:
        """Plan the agents that are due at step ``step`` (before its observation)."""
        if not self.active:
            return
        due: dict[PlanEvent, np.ndarray] = {}
        if step == 0:
            due[PlanEvent.RESET] = np.arange(self.agents)
        else:
            taken = np.zeros(self.agents, bool)
            periodic = step - self.last_call >= self.period_steps
            if periodic.any():
                due[PlanEvent.PERIOD] = np.flatnonzero(periodic)
                taken |= periodic
            spaced = step - self.last_call >= self.spacing_steps
            for event, agents in self.pending.items():
                hit = np.zeros(self.agents, bool)
                hit[list(agents)] = True
                hit &= spaced & ~taken
                if hit.any():
                    due[event] = np.flatnonzero(hit)
                    taken |= hit
            self.pending = {}
        for event, agents in due.items():
            for k in agents.tolist():
                self._close(k)
            context = make_context(event, agents)
            plans = self.planner.plan(context)
            for k in agents.tolist():
                self._install(k, plans[k], context)
            self.last_call[agents] = step

    def finish_episode(self) -> None:
        """Close every open window (the episode ended)."""
        if self.active:
            for k in range(self.agents):
                self._close(k)

    def _install(self, k: int, plan: AgentPlan, context: PlanContext) -> None:
        self.windows[k] = _Window.open(plan, context)
        self.p[k], self.z_plan[k] = plan.p, plan.z_plan
        self.w[k], self.psi[k], self.phi[k], self.r_hat[k] = plan.w, plan.psi, plan.phi, plan.r_hat

    def _close(self, k: int) -> None:
        window = self.windows[k]
        self.windows[k] = None
        if window is None or window.steps == 0:
            return
        n = window.steps
        self.planner.record(
            WindowOutcome(
                agent=k,
                context=window.context,
                plan=window.plan,
                utility=window.utility / n,
                kpis=window.kpis / n,
                choice=self._choice[k].copy(),
                slot_rho=window.slot_rho / n,
                slot_sojourn_s=window.slot_sojourn_s / n,
                steps=n,
                duration_s=n * self.step_s,
            )
        )

    # --- what the agents see -----------------------------------------------------------------
    def guidance(self) -> Guidance:
        """This step's trust and reward weights (static without a planner or without shaping)."""
        if not self.active:
            return Guidance.static(self.agents)
        kappa = self.trust.kappa(self.r_hat)
        if not self.shaping:
            static = Guidance.static(self.agents)
            return Guidance(kappa, static.omega, static.rho, static.phi, static.alpha)
        return Guidance.blended(kappa, self.w, self.psi, self.phi)

    def prior(self, place_mask: np.ndarray) -> np.ndarray:
        """pi_LLM of every agent under this step's masks (zeros without a planner).

        Shapes: (K, S, O) bool -> (K, S, O) float32.
        """
        if not self.active:
            return np.zeros(place_mask.shape, np.float32)
        return policy_prior(self.p, place_mask)

    def rewards(self, metrics: StepMetrics, guidance: Guidance) -> np.ndarray:
        """The agents' rewards: the static Eq. 20 reward, or r-hat (Eq. 29-31) when shaping."""
        if not (self.active and self.shaping):
            return metrics.reward
        return guidance.rewards(metrics)
