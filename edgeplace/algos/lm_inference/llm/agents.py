"""The llm backend's three agent kinds: each asks the model, validates its answer and falls back as the
spec rules (spec d, "`llm` backend"), returning its decision and the number of fallbacks it took.

- planner: on any failure, the uniform random policy (uniform routing over feasible nodes, all in role);
  one fallback.
- scheduler: each requested (origin, LM) pair the answer leaves without a feasible destination goes to
  JSQ, after the answer's own routes (one fallback per such pair; a failed answer falls back for every
  requested pair). Feasible off-role routes are kept (the env counts them).
- deployer: on any failure, the role-enacting deployer's configuration for the node; one fallback.

A failure is an error of the call (:class:`ChatError`: transport, timeout, HTTP status) or of the
answer (:class:`AnswerError`); both are logged. A replay that does not match its transcript raises.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from edgeplace.algos.baselines.lm_inference.jsq import JsqScheduler
from edgeplace.algos.baselines.lm_inference.role_deployer import RoleDeployer
from edgeplace.algos.lm_inference.llm.answers import (
    NO_ROUTE,
    AnswerError,
    parse_node_config,
    parse_plan,
    parse_routes,
)
from edgeplace.algos.lm_inference.llm.planner_prompt import planner_messages
from edgeplace.algos.lm_inference.llm.settings import LlmSettings
from edgeplace.algos.lm_inference.llm.tier2_prompts import deployer_messages, scheduler_messages
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.planners.chat_client import ChatClient, ChatError
from edgeplace.policy import Observation

logger = logging.getLogger(__name__)
T = TypeVar("T")


class LlmAgents:
    """The planner, scheduler and deployers of one cluster, asking through ``client``."""

    def __init__(
        self, cluster: Cluster, params: LmInferenceParams, client: ChatClient, settings: LlmSettings
    ) -> None:
        self.cluster, self.params, self.client, self.settings = cluster, params, client, settings
        self.jsq = JsqScheduler(cluster, params)
        self.role_deployer = RoleDeployer(cluster, params)

    async def plan(self, observation: Observation, view: ClusterView) -> tuple[Plan, int]:
        """The epoch's plan from the planner's observation (its decoded ``state`` is ``view``)."""
        messages = planner_messages(observation, view, self.cluster, self.params)
        plan = await self._ask(
            PLANNER, messages, self.settings.planner_timeout_s, lambda text: parse_plan(text, self.cluster)
        )
        return (Plan.uniform(self.cluster), 1) if plan is None else (plan, 0)

    async def route(self, view: ClusterView, plan: Plan) -> tuple[np.ndarray, int]:
        """Destinations of the slot's requests. Shapes: -> (N, I) int64."""
        estimates = self.jsq.estimates(view, plan)
        chosen = await self._ask(
            SCHEDULER,
            scheduler_messages(view, plan, estimates, self.cluster),
            self.settings.tier2_timeout_s,
            lambda text: parse_routes(text, self.cluster),
        )
        if chosen is None:
            chosen = np.full(view.demand.shape, NO_ROUTE, dtype=np.int64)
        missing = chosen == NO_ROUTE
        # JSQ routes the rest on the view once the answer's own routes are in transit.
        answered = dataclasses.replace(view, demand=np.where(missing, 0, view.demand))
        answered = answered.routed(chosen, self.cluster.can_host)
        rest = self.jsq.route(dataclasses.replace(answered, demand=np.where(missing, view.demand, 0)), plan)
        return np.where(missing, rest, chosen), int((missing & (view.demand > 0)).sum())

    async def deploy(self, agent: str, view: ClusterView, plan: Plan, node: int) -> tuple[NodeConfig, int]:
        """Node ``node``'s target configuration (its deployer ``agent``'s decision)."""
        config = await self._ask(
            agent,
            deployer_messages(view, plan, self.cluster, node),
            self.settings.tier2_timeout_s,
            lambda text: parse_node_config(text, self.cluster, node, view),
        )
        return (self.role_deployer.targets(plan)[node], 1) if config is None else (config, 0)

    async def _ask(
        self, agent: str, messages: list[dict[str, str]], timeout_s: float, parse: Callable[[str], T]
    ) -> T | None:
        """The parsed answer, or None (logged) when the call or the answer fails."""
        try:
            return parse(await self.client.complete(messages, timeout_s=timeout_s, tag=agent))
        except (ChatError, AnswerError) as error:
            logger.warning("llm %s fell back: %s: %s", agent, type(error).__name__, error)
            return None
