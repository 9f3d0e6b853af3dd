"""A DRL tier as an RLlib MultiAgentEnv on the lm-inference simulator (spec e, "Hierarchical DRL").

Slot t: the upper tier routes the slot's requests (one action per origin), then the lower tier sets
every node's mode vector (completed by the completion rule), then the slot is simulated. One tier
trains: its agents act through RLlib, one env step per slot. The other tier is frozen and acts inside
the env through a greedy :class:`~edgeplace.policy.Policy` set with :meth:`DrlTierEnv.set_frozen`
(the trainer passes the other tier's current modules). Observations and masks come from
:class:`TierObserver`, the mapping the evaluation policy also uses.

Reward: Eq. 20 of each cohort, paid to every agent of the training tier at the end of the slot in
which the cohort's last request resolved (:class:`CohortCredit`). At the episode's end the infos
carry the KPIs of the measured cohorts (the main env's window), their mean Eq. 20 reward and the
return; :meth:`DrlTierEnv.pop_finished` hands the finished episodes' KPIs to the trainer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from edgeplace.envs.base import KPI_INFO_KEY, Observation
from edgeplace.envs.lm_inference.drl.cohort_credit import CohortCredit
from edgeplace.envs.lm_inference.drl.config import DrlTierConfig
from edgeplace.envs.lm_inference.drl.observation import TierObserver
from edgeplace.envs.lm_inference.drl.tiers import Tier, tier_agents
from edgeplace.envs.lm_inference.env import AgentKpi, EpisodeKpi
from edgeplace.envs.lm_inference.kpis import cohort_kpis, cohort_mask
from edgeplace.envs.lm_inference.lm_types import NUM_LMS
from edgeplace.envs.lm_inference.rewards import cohort_rewards
from edgeplace.envs.lm_inference.simulator import LmInferenceSim
from edgeplace.envs.multi_rate import MultiRateEnv, Phase
from edgeplace.policy import Policy, act
from edgeplace.workloads.lm_inference import draw_prompts


class DrlTierEnv(MultiRateEnv):
    """See the module docstring.

    Args:
        config: a :class:`DrlTierConfig` or its mapping (RLlib's ``env_config``).
    """

    def __init__(self, config: Mapping[str, Any] | DrlTierConfig | None = None) -> None:
        self.config = DrlTierConfig.from_env_config(config)
        lm = self.config.lm
        self.cluster, self.params, self.tier = lm.cluster(), lm.params, Tier(self.config.tier)
        self.observer = TierObserver(self.cluster, self.params)
        self.possible_agents = list(tier_agents(self.cluster, self.tier))
        self.frozen_agents = tier_agents(self.cluster, self.tier.other)
        obs_space, action_space = self.observer.spaces(self.tier)
        self.observation_spaces = dict.fromkeys(self.possible_agents, obs_space)
        self.action_spaces = dict.fromkeys(self.possible_agents, action_space)
        self.frozen: Policy | None = None
        self.finished: list[dict[str, float]] = []
        super().__init__([Phase(tuple(self.possible_agents))], lm.horizon)

    def set_frozen(self, policy: Policy) -> None:
        """The greedy policy of the frozen tier's agents (used from the next decision on)."""
        self.frozen = policy

    def pop_finished(self) -> list[dict[str, float]]:
        """The KPIs of the episodes finished since the last call, oldest first."""
        finished, self.finished = self.finished, []
        return finished

    # --- episode -------------------------------------------------------------------------------
    def _begin_episode(self) -> None:
        lm = self.config.lm
        prompts = draw_prompts(
            self.rng,
            self.horizon,
            self.cluster.num_nodes,
            NUM_LMS,
            workload=lm.workload,
            epoch_slots=lm.epoch_slots,
        )
        self.sim = LmInferenceSim(self.cluster, prompts, self.params)
        self.credit = CohortCredit(self.sim.log, self.params)
        self.episode_return = 0.0
        self._start_slot()

    def _frozen_actions(self, observations: dict[str, Observation]) -> list[Any]:
        if self.frozen is None:
            raise RuntimeError(
                f"DrlTierEnv: the frozen {self.tier.other} tier has no policy; call set_frozen first"
            )
        actions = act(self.frozen, observations)
        return [actions[agent] for agent in self.frozen_agents]

    def _start_slot(self) -> None:
        """Before the training tier observes: the frozen upper tier routes (when the lower trains)."""
        if self.tier is Tier.LOWER:
            routes = self._frozen_actions(self.observer.upper(self.sim.view()))
            self.sim.route(self.observer.routes(np.stack(routes)))
        self.view = self.sim.view()

    def _observe(self, agents: Sequence[str]) -> dict[str, Observation]:
        view = self.view
        observations = self.observer.upper(view) if self.tier is Tier.UPPER else self.observer.lower(view)
        return {agent: observations[agent] for agent in agents}

    def _apply(self, actions: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, dict]]:
        if self.tier is Tier.UPPER:
            self.sim.route(self.observer.routes(np.stack([actions[a] for a in self.possible_agents])))
            self.view = self.sim.view()
            lower = self._frozen_actions(self.observer.lower(self.view))
        else:
            lower = [actions[agent] for agent in self.possible_agents]
        configs = [self.observer.config(self.view, n, int(a)) for n, a in enumerate(lower)]
        self.sim.deploy(configs)
        return {}, {}

    def _end_slot(self) -> dict[str, float]:
        self.sim.advance()
        reward = self.credit.settle(self.sim.slot)
        self.episode_return += reward
        if self.sim.done:
            self.view = self.sim.view()
        else:
            self._start_slot()
        return dict.fromkeys(self.possible_agents, reward)

    # --- KPIs ----------------------------------------------------------------------------------
    def _with_kpis(self, infos: dict[str, dict]) -> dict[str, dict]:
        """The base's KPIs in every agent's final info, also kept for :meth:`pop_finished`."""
        infos = super()._with_kpis(infos)
        self.finished.append(dict(infos[self.possible_agents[0]][KPI_INFO_KEY]))
        return infos

    def _episode_kpis(self) -> dict[str, float]:
        log, lm = self.sim.log, self.config.lm
        first, end = lm.run_spec.cohort_slots(self.params)
        kpis = cohort_kpis(log, cohort_mask(log, first, end), self.params)
        out = {
            **kpis.as_dict(),
            EpisodeKpi.COHORT_REWARD: float(cohort_rewards(log, first, end, self.params).mean()),
            AgentKpi.RETURN: self.episode_return,
        }
        return {str(key): float(value) for key, value in out.items()}
