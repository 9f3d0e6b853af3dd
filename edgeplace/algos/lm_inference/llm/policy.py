"""The ``llm`` backend as a policy (the :class:`~edgeplace.policy.Policy` protocol), run through the env
like the rule controllers (:class:`~edgeplace.algos.baselines.lm_inference.policies.HierarchyPolicy`):
each observation's ``state`` decodes to the :class:`ClusterView` its agent decides on, and the answer is
the env's explicit form (:mod:`edgeplace.envs.lm_inference.decisions`) carrying the fallbacks taken,
which the env counts in its ``fallbacks`` KPI.

All calls of one batch (the six deployers of a slot, or the agents of several envs) run concurrently;
they are numbered for the transcript in batch order. The simulated clock does not move while the
model answers (the env only advances between steps). The plan of each episode (told apart by the
observation's ``episode``) is kept from its planner turn to the deployers of its last slot, for at
most ``MAX_OPEN_EPISODES`` episodes at once (the oldest dropped first), as the rule controllers do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from edgeplace.algos.baselines.lm_inference.policies import MAX_OPEN_EPISODES, plan_weights
from edgeplace.algos.lm_inference.llm.agents import LlmAgents
from edgeplace.algos.lm_inference.llm.settings import LlmSettings
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER, deployer_ids
from edgeplace.envs.lm_inference.config import LmInferenceConfig
from edgeplace.envs.lm_inference.decisions import (
    explicit_batch,
    explicit_config,
    explicit_routes,
    explicit_weights,
)
from edgeplace.envs.lm_inference.observation import LmObs
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.state_codec import decode_state
from edgeplace.planners.chat_client import run_sync
from edgeplace.policy import Observation, Policy

LLM_BACKEND = "llm"
"""The backend's (and the policy's) name."""


class LlmPolicy:
    """The llm backend for envs built from ``env_config``.

    Args:
        seed: fills ``{seed}`` in the settings' transcript and replay paths (the backend draws nothing).
        settings: endpoint, timeouts and transcripts; None: :class:`LlmSettings` from the env vars.
    """

    name = LLM_BACKEND

    def __init__(
        self, seed: int, env_config: Mapping[str, Any] | None, settings: LlmSettings | None = None
    ) -> None:
        config = LmInferenceConfig.from_env_config(env_config)
        self.cluster, self.horizon = config.cluster(), config.horizon
        self.settings = (settings or LlmSettings()).for_seed(seed)
        self.client = self.settings.client()
        self.agents = LlmAgents(self.cluster, config.params, self.client, self.settings)
        self.nodes = {agent: n for n, agent in enumerate(deployer_ids(self.cluster))}
        self.plans: dict[tuple[int, ...], Plan] = {}

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Explicit actions, one row per observation (an object array when their lengths differ)."""
        rows = run_sync(self._decide_all(agent_ids, observations))
        return explicit_batch(rows)

    async def _decide_all(
        self, agent_ids: Sequence[str], observations: Sequence[Observation]
    ) -> list[np.ndarray]:
        finished: set[tuple[int, ...]] = set()
        rows = await asyncio.gather(
            *(self._decide(agent, obs, finished) for agent, obs in zip(agent_ids, observations, strict=True))
        )
        for key in finished:
            self.plans.pop(key, None)
        return rows

    async def _decide(
        self, agent: str, observation: Observation, finished: set[tuple[int, ...]]
    ) -> np.ndarray:
        """``agent``'s explicit action; adds the episode's key to ``finished`` at its last deployers."""
        key = tuple(int(v) for v in observation[LmObs.EPISODE])
        view, _ = decode_state(observation[LmObs.STATE], self.cluster.num_nodes)
        if agent == PLANNER:
            plan, fallbacks = await self.agents.plan(observation, view)
            self.plans[key] = plan
            if len(self.plans) > MAX_OPEN_EPISODES:  # episodes whose last deployers it never sees
                del self.plans[next(iter(self.plans))]
            return explicit_weights(plan_weights(plan), fallbacks)
        if key not in self.plans:
            raise ValueError(
                f"{self.name}: {agent} acts in episode {key} at slot {view.slot}, whose first planner "
                "turn this policy did not see (the backend plays whole episodes)"
            )
        plan = self.plans[key]
        if agent == SCHEDULER:
            return explicit_routes(*await self.agents.route(view, plan))
        if view.slot == self.horizon - 1:
            finished.add(key)
        return explicit_config(*await self.agents.deploy(agent, view, plan, self.nodes[agent]))


def llm_policy(
    seed: int, env_config: Mapping[str, Any] | None, settings: LlmSettings | None = None
) -> Policy:
    """The llm backend as a baseline factory ``(seed, env_config) -> Policy``."""
    return LlmPolicy(seed, env_config, settings)


#: The backend under its baseline name, for the scenario's baselines.
BASELINES: Mapping[str, Callable[..., Policy]] = MappingProxyType({LLM_BACKEND: llm_policy})
