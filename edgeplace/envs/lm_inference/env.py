"""The lm-inference scenario as a multi-rate RLlib env (spec d, "Agents and env protocol").

Slot t runs PLAN (the ``planner``, when t is a multiple of the epoch length) -> ROUTE (the
``scheduler``) -> DEPLOY (every ``deployer_<node>`` together), one env step each, then simulates
[30 t, 30 t + 30) on :class:`LmInferenceSim`. The end of the slot rewards the scheduler and the
deployers (the windowed training reward with shaping), and the end of an epoch the planner
(:mod:`.rewards`); RLlib credits an agent that is not acting at its next observation.

Actions come in two forms (:mod:`.decisions`): the learned agents' masked RLlib actions, and the
explicit decisions of the rule and llm backends. Observations: :mod:`.observation`. At the episode's
end every agent's ``infos`` carry the KPIs: section b's over the measured cohorts, the mean Eq. 20
reward of those cohorts, reconfigurations (restarts, voided and locked actions, ...), the off-role
ratio, the fallbacks and each agent's return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import numpy as np

from edgeplace.envs.base import Observation
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER, deployer_ids
from edgeplace.envs.lm_inference.case_memory import RETRIEVED, Case, CaseMemory, MemoryScope
from edgeplace.envs.lm_inference.config import LmInferenceConfig
from edgeplace.envs.lm_inference.decisions import Decision, DecisionCodec
from edgeplace.envs.lm_inference.epoch_summary import EpochSummary, PodActivity, summarise_epoch
from edgeplace.envs.lm_inference.kpis import LmKpi, cohort_kpis, cohort_mask, epoch_objectives
from edgeplace.envs.lm_inference.lm_types import LM_LABELS, NUM_LMS
from edgeplace.envs.lm_inference.masks import ActionMasks
from edgeplace.envs.lm_inference.observation import LmObs, ObservationBuilder
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.reconfigure import ReconfigCounts
from edgeplace.envs.lm_inference.rewards import WindowedReward, cohort_rewards, objective_reward, potential
from edgeplace.envs.lm_inference.simulator import LmInferenceSim
from edgeplace.envs.lm_inference.slot_observer import SlotObserver
from edgeplace.envs.lm_inference.state_codec import encode_state
from edgeplace.envs.lm_inference.telemetry import epoch_telemetry
from edgeplace.envs.multi_rate import MultiRateEnv, Phase
from edgeplace.obs_keys import ObsKey
from edgeplace.workloads.lm_inference import draw_prompts


class EpisodeKpi(StrEnum):
    """KPIs the env reports beside :class:`LmKpi` (per-agent ones: ``<agent>/return``)."""

    MEAN_LATENCY_NORM = "mean_latency_norm"
    """T-bar_norm of Eq. 9."""
    COHORT_REWARD = "cohort_reward"
    """Mean Eq. 20 reward of the measured cohorts."""
    OFF_ROLE_RATIO = "off_role_ratio"
    """Share of the measured requests routed to a node without their LM in role."""
    FALLBACKS = "fallbacks"
    """Fallbacks the backends reported over the episode (explicit actions)."""
    CREATIONS = "creations"
    RESTARTS = "restarts"
    TERMINATIONS = "terminations"
    RESIZES = "resizes"
    VOIDED = "voided_actions"
    """Allocating changes voided by a PENDING pod."""
    LOCKED = "locked_actions"
    """Changes asked of a locked pod, ignored."""


class LmInfo(StrEnum):
    """Entries of the final infos beside the KPIs."""

    COHORT_REWARDS = "cohort_rewards"
    """(T,) float64, read-only: Eq. 20 of the cohort arriving in each slot of the episode (unresolved
    requests count as failures), the delayed labels that ``reward_mode="cohort_retimed"`` moves onto
    the decisions of their slot."""
    EPOCH_OBJECTIVES = "epoch_objectives"
    """(epochs,) float64, read-only, in every agent's final infos: J (Eq. 10) of the requests resolved in
    each epoch (Fig. 7's curve; the planner's reward is 1 minus it)."""


class AgentKpi(StrEnum):
    """Per-agent KPIs (reported as ``<agent>/<kpi>``)."""

    RETURN = "return"
    """Sum of the agent's rewards over the episode."""


_COUNTS = {
    EpisodeKpi.CREATIONS: "creations",
    EpisodeKpi.RESTARTS: "restarts",
    EpisodeKpi.TERMINATIONS: "terminations",
    EpisodeKpi.RESIZES: "resizes",
    EpisodeKpi.VOIDED: "voided",
    EpisodeKpi.LOCKED: "locked",
}
_PER_LM = (LmKpi.SUCCESS_RATIO, LmKpi.LATENCY_S, LmKpi.ARRIVALS)
#: Every episode KPI key, in report order.
EPISODE_KPIS: tuple[str, ...] = (
    *(kpi.value for kpi in LmKpi if kpi not in _PER_LM),
    EpisodeKpi.MEAN_LATENCY_NORM.value,
    *(f"{kpi.value}_{label}" for kpi in _PER_LM for label in LM_LABELS),
    *(kpi.value for kpi in EpisodeKpi if kpi is not EpisodeKpi.MEAN_LATENCY_NORM),
)


class LmInferenceEnv(MultiRateEnv):
    """See the module docstring.

    Args:
        config: the env config (:class:`LmInferenceConfig` or its mapping).
        reference: the random-policy reference's KPI features (spec g11), the planner's ``baseline``;
            (2 I + 3,), see :func:`~edgeplace.envs.lm_inference.epoch_summary.kpi_features`.
    """

    def __init__(self, config: Mapping[str, Any] | LmInferenceConfig | None, reference: np.ndarray) -> None:
        self.config = LmInferenceConfig.from_env_config(config)
        self.cluster, self.params = self.config.cluster(), self.config.params
        self.deployers = deployer_ids(self.cluster)
        self.possible_agents = [PLANNER, SCHEDULER, *self.deployers]
        self.masks = ActionMasks(self.cluster, self.params, self.config.scheduler_role_mask)
        planner_action, scheduler_action, deployer_action = self.masks.spaces()
        self.builder = ObservationBuilder(self.cluster, self.params, reference)
        planner_obs, scheduler_obs, deployer_obs = self.builder.spaces(
            (planner_action, scheduler_action, deployer_action)
        )
        self.action_spaces = {
            PLANNER: planner_action,
            SCHEDULER: scheduler_action,
            **dict.fromkeys(self.deployers, deployer_action),
        }
        self.observation_spaces = {
            PLANNER: planner_obs,
            SCHEDULER: scheduler_obs,
            **dict.fromkeys(self.deployers, deployer_obs),
        }
        self.observer = SlotObserver(self.builder, self.masks, SCHEDULER, self.deployers)
        self.codec = DecisionCodec(
            self.cluster,
            self.masks.table,
            PLANNER,
            SCHEDULER,
            {agent: n for n, agent in enumerate(self.deployers)},
            self.action_spaces,
        )
        self.seed_cases: tuple[Case, ...] = ()
        """The cases of ``config.memory_file``, added to each fresh memory."""
        if self.config.memory_file is not None:
            try:
                self.seed_cases = tuple(self._fresh_memory().load(self.config.memory_file))
            except ValueError as err:
                raise ValueError(f"lm-inference env_config: memory_file: {err}") from None
        self.memory = self._fresh_memory()
        """The episodic case memory (its life: ``config.memory_scope``)."""
        phases = [Phase((PLANNER,), self.config.epoch_slots), Phase((SCHEDULER,)), Phase(self.deployers)]
        super().__init__(phases, self.config.horizon)

    # --- episode -------------------------------------------------------------------------------
    def _begin_episode(self) -> None:
        n = self.cluster.num_nodes
        prompts = draw_prompts(
            self.rng,
            self.horizon,
            n,
            NUM_LMS,
            workload=self.config.workload,
            epoch_slots=self.config.epoch_slots,
        )
        self.sim = LmInferenceSim(self.cluster, prompts, self.params)
        self.plan = Plan.uniform(self.cluster)
        self.weights = np.zeros((NUM_LMS, n), dtype=np.int64)
        self.summary: EpochSummary | None = None
        if self.config.memory_scope == MemoryScope.EPISODE:
            self.memory = self._fresh_memory()
        self.activity = PodActivity(n)
        self.off_role = np.zeros(self.sim.log.slot.size, dtype=bool)
        self.windowed = WindowedReward(self.config.reward_window_slots, self.params)
        self.returns = dict.fromkeys(self.possible_agents, 0.0)
        self.fallbacks = 0
        self.view = self.sim.view()
        self.phi = potential(self.view.backlog_prompts, self.params)

    def _fresh_memory(self) -> CaseMemory:
        """A memory of this env's case sizes holding only the memory file's cases."""
        n = self.cluster.num_nodes
        memory = CaseMemory(feature_size=self.builder.case_size, context_size=2 * NUM_LMS + n)
        for case in self.seed_cases:
            memory.add(case)
        return memory

    def _observe(self, agents: Sequence[str]) -> dict[str, Observation]:
        view, epoch_slot = self.view, self.slot % self.config.epoch_slots
        episode = np.array([self.seed, self.episode_index], dtype=np.int64)
        out = self.observer.observe(view, self.plan, epoch_slot, episode, agents)
        if PLANNER in agents:
            epoch = self.config.epoch_slots
            telemetry = (
                epoch_telemetry(self.sim, view.slot - epoch, view.slot) if view.slot >= epoch else None
            )
            no_cases = [None] * RETRIEVED
            cases = self.memory.retrieve(self.summary.context()) if self.summary is not None else no_cases
            pods = self.builder.pod_features(view)
            out[PLANNER] = {
                **self.builder.planner(self.plan, self.summary, cases),
                **self.observer.common(view, pods, self.plan, epoch_slot, episode),
                LmObs.STATE: encode_state(view, telemetry),
                ObsKey.ACTION_MASK: self.masks.planner,
            }
        return out

    def _checked(
        self, actions: Mapping[str, Any], observations: Mapping[str, Observation]
    ) -> dict[str, Decision]:
        """Learned actions checked by the base (masks), explicit ones validated by the codec; all
        decoded to :class:`Decision` s before anything changes."""
        explicit = [a for a in observations if a in actions and self.codec.is_explicit(a, actions[a])]
        learned = super()._checked(
            {a: v for a, v in actions.items() if a not in explicit},
            {a: o for a, o in observations.items() if a not in explicit},
        )
        decided = {a: self.codec.explicit(a, actions[a], self.view) for a in explicit}
        decided.update({a: self.codec.learned(a, v) for a, v in learned.items()})
        return decided

    def _apply(self, actions: Mapping[str, Decision]) -> tuple[dict[str, float], dict[str, dict]]:
        self.fallbacks += sum(decision.fallbacks for decision in actions.values())
        if PLANNER in actions:
            self.plan, self.weights = actions[PLANNER].value, actions[PLANNER].weights
        elif SCHEDULER in actions:
            destinations = actions[SCHEDULER].value
            log, t = self.sim.log, self.slot
            ids = slice(log.slot_start[t], log.slot_start[t + 1])
            lm = log.lm[ids]
            self.off_role[ids] = ~self.plan.roles[destinations[log.origin[ids], lm], lm]
            self.sim.route(destinations)
            self.view = self.sim.view()
        else:
            self.activity.add(self.view)
            self.sim.deploy([actions[agent].value for agent in self.deployers])
        return {}, {}

    def _end_slot(self) -> dict[str, float]:
        self.sim.advance()
        self.view = self.sim.view()
        reward = self.windowed.update(self.sim.log, self.slot)
        phi = potential(self.view.backlog_prompts, self.params)
        if self.config.shaping:
            reward += self.config.shaping_gamma * phi - self.phi
        self.phi = phi
        rewards = dict.fromkeys([SCHEDULER, *self.deployers], reward)
        epoch = self.config.epoch_slots
        if (self.slot + 1) % epoch == 0:
            first = self.slot + 1 - epoch
            self.summary = summarise_epoch(
                self.sim.log, self.off_role, first, self.slot + 1, self.activity, self.params
            )
            rewards[PLANNER] = objective_reward(self.summary.kpis)
            features = self.summary.case_features(self.weights, self.params)
            self.memory.add(
                Case(features, self.summary.context(), self.summary.kpis.objective, self.memory.next_epoch)
            )
            self.activity = PodActivity(self.cluster.num_nodes)
        for agent, value in rewards.items():
            self.returns[agent] += value
        return rewards

    # --- KPIs ----------------------------------------------------------------------------------
    def _with_kpis(self, infos: dict[str, dict]) -> dict[str, dict]:
        """The base's KPIs and :attr:`LmInfo.EPOCH_OBJECTIVES` in every agent's final info, and
        :attr:`LmInfo.COHORT_REWARDS` in the slot-level agents'."""
        infos = super()._with_kpis(infos)
        cohorts = cohort_rewards(self.sim.log, 0, self.horizon, self.params)
        cohorts.setflags(write=False)
        for agent in (SCHEDULER, *self.deployers):
            infos[agent][LmInfo.COHORT_REWARDS] = cohorts
        per_epoch = epoch_objectives(self.sim.log, self.config.epochs, self.params)
        per_epoch.setflags(write=False)
        for agent in self.possible_agents:
            infos[agent][LmInfo.EPOCH_OBJECTIVES] = per_epoch
        return infos

    def _episode_kpis(self) -> dict[str, float]:
        log, params = self.sim.log, self.params
        first, end = self.config.run_spec.cohort_slots(params)
        measured = cohort_mask(log, first, end)
        kpis = cohort_kpis(log, measured, params)
        counts: ReconfigCounts = self.sim.counts
        out = {
            **kpis.as_dict(),
            EpisodeKpi.MEAN_LATENCY_NORM: kpis.mean_latency_s / params.deadline_s,
            EpisodeKpi.COHORT_REWARD: float(cohort_rewards(log, first, end, params).mean()),
            EpisodeKpi.OFF_ROLE_RATIO: float(self.off_role[measured].mean()) if measured.any() else 0.0,
            EpisodeKpi.FALLBACKS: float(self.fallbacks),
            **{kpi: float(getattr(counts, field)) for kpi, field in _COUNTS.items()},
            **{f"{agent}/{AgentKpi.RETURN}": float(value) for agent, value in self.returns.items()},
        }
        return {str(key): float(value) for key, value in out.items()}
