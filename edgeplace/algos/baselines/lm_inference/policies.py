"""The rule controllers as policies (the :class:`~edgeplace.policy.Policy` protocol), so evaluation runs
them through the env exactly like trained modules.

A :class:`HierarchyPolicy` decides on each observation's exact decision context (``state``, see
:mod:`edgeplace.envs.lm_inference.state_codec`) with the controller's planner, scheduler and deployer,
and answers in the env's explicit form (:mod:`edgeplace.envs.lm_inference.decisions`), which carries
what the masked actions cannot: configurations outside the catalogue (RF's, the completion rule's),
routes the masks forbid (LL's), the exact plan. Its plan reaches the env as weights that keep its
roles, so the env's off-role count and the scheduler's observation match it.

Controllers keep state over an episode (plans, demand estimates, round-robin pointers, random
streams), so the policy keeps one per episode, told apart by the observation's ``episode`` (seed,
index): made at the episode's first planner turn with :func:`controller_seed`, dropped after the
deployers of its last slot. A run through the env therefore equals the simulator's direct run of the
same controller on the same requests. A policy that plays only some agents (the scripted agents of
staged training) never sees an episode's last deployer, so at most :data:`MAX_OPEN_EPISODES` episodes
are kept, the oldest dropped first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgeplace.algos.baselines.lm_inference.hierarchies import HIERARCHIES, make_hierarchy
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER, deployer_ids
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.config import LmInferenceConfig
from edgeplace.envs.lm_inference.decisions import (
    explicit_batch,
    explicit_config,
    explicit_routes,
    explicit_weights,
)
from edgeplace.envs.lm_inference.hierarchy import Hierarchy
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.observation import LmObs
from edgeplace.envs.lm_inference.plan import MAX_WEIGHT, Plan
from edgeplace.envs.lm_inference.state_codec import decode_state
from edgeplace.envs.lm_inference.telemetry import EpochTelemetry
from edgeplace.policy import Observation

MAX_OPEN_EPISODES = 1024
"""Episodes a policy plays at once, at most (far above any evaluation's parallel envs)."""


def controller_seed(policy_seed: int, env_seed: int, episode: int) -> int:
    """The seed of the controller that plays episode ``episode`` of env seed ``env_seed``."""
    return int(np.random.SeedSequence([policy_seed, env_seed, episode]).generate_state(1)[0])


def plan_weights(plan: Plan) -> np.ndarray:
    """Planner weights for ``plan``: its roles exactly, p_in rounded to {1..4} relative to the LM's
    largest. Shapes: -> (I, N) int64."""
    routing = plan.routing
    top = routing.max(axis=1, keepdims=True)
    scaled = np.divide(routing, top, out=np.zeros_like(routing), where=top > 0) * MAX_WEIGHT
    return np.where(plan.roles.T, np.clip(np.rint(scaled), 1, MAX_WEIGHT), 0).astype(np.int64)


@dataclass
class _Episode:
    """A controller and what it decided so far in one episode."""

    hierarchy: Hierarchy
    plan: Plan
    deploy_slot: int = -1
    configs: Sequence[NodeConfig | None] = field(default_factory=list)
    deployed: int = 0


class HierarchyPolicy:
    """Rule controller ``name`` (:data:`HIERARCHIES`) for envs built from ``env_config``."""

    def __init__(self, name: str, seed: int, env_config: Mapping[str, Any] | None) -> None:
        if name not in HIERARCHIES:
            raise ValueError(f"unknown lm-inference controller {name!r}; known: {list(HIERARCHIES)}")
        config = LmInferenceConfig.from_env_config(env_config)
        self.name, self.seed = name, seed
        self.cluster, self.params, self.horizon = config.cluster(), config.params, config.horizon
        self.nodes = {agent: n for n, agent in enumerate(deployer_ids(self.cluster))}
        self.episodes: dict[tuple[int, int], _Episode] = {}
        self._decoded: tuple[np.ndarray | None, Any] = (None, None)
        """The last ``state`` entry decoded and its (view, telemetry): a phase's agents share one."""

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Explicit actions, one row per observation (an object array when their lengths differ)."""
        rows = [self._act(agent, obs) for agent, obs in zip(agent_ids, observations, strict=True)]
        return explicit_batch(rows)

    def _act(self, agent: str, observation: Observation) -> np.ndarray:
        env_seed, episode_index = (int(v) for v in observation[LmObs.EPISODE])
        key = (env_seed, episode_index)
        view, telemetry = self._decode(observation[LmObs.STATE])
        if agent == PLANNER and view.slot == 0:
            seed = controller_seed(self.seed, env_seed, episode_index)
            hierarchy = make_hierarchy(self.name, self.cluster, self.params, seed)
            self.episodes[key] = _Episode(hierarchy, Plan.uniform(self.cluster))
            if len(self.episodes) > MAX_OPEN_EPISODES:
                del self.episodes[next(iter(self.episodes))]
        if key not in self.episodes:
            raise ValueError(
                f"{self.name}: {agent} acts in episode {key} at slot {view.slot}, whose first planner "
                "turn this policy did not see (a controller plays whole episodes)"
            )
        episode = self.episodes[key]
        hierarchy = episode.hierarchy
        if agent == PLANNER:
            if hierarchy.planner is not None:
                episode.plan = hierarchy.planner.plan(view, telemetry)
            return explicit_weights(plan_weights(episode.plan))
        if agent == SCHEDULER:
            return explicit_routes(hierarchy.scheduler.route(view, episode.plan))
        if episode.deploy_slot != view.slot:
            episode.configs = hierarchy.deployer.deploy(view, episode.plan)
            episode.deploy_slot, episode.deployed = view.slot, 0
        node = self.nodes[agent]
        episode.deployed += 1
        if view.slot == self.horizon - 1 and episode.deployed == len(self.nodes):
            del self.episodes[key]
        return explicit_config(episode.configs[node] or view.node_config(node))

    def _decode(self, state: np.ndarray) -> tuple[ClusterView, EpochTelemetry | None]:
        if self._decoded[0] is not state:
            self._decoded = (state, decode_state(state, self.cluster.num_nodes))
        return self._decoded[1]


#: Every rule controller as a baseline factory ``(seed, env_config) -> Policy``.
BASELINES = {
    name: (lambda seed, env_config, name=name: HierarchyPolicy(name, seed, env_config))
    for name in HIERARCHIES
}
