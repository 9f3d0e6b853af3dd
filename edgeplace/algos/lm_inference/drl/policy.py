"""The trained DRL hierarchy behind the policy protocol, acting in the main lm-inference env as the rule
controllers do (:class:`~edgeplace.algos.baselines.lm_inference.policies.HierarchyPolicy`): it decodes
each observation's ``state`` into a :class:`ClusterView`, builds the tiers' observations from it with the
tier env's own :class:`TierObserver`, runs both tiers' modules greedily and answers in the explicit form
(:mod:`edgeplace.envs.lm_inference.decisions`): the planner the uniform plan (all-zero weights), the
scheduler the upper tier's routes, each deployer its node's completed mode vector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModule

from edgeplace.algos.checkpoints import MODULE_SUBDIR
from edgeplace.algos.lm_inference.drl.run_dir import read_metadata, resolve_checkpoint
from edgeplace.algos.lm_inference.policy import LearnedPolicy
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER, deployer_ids
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.config import LmInferenceConfig
from edgeplace.envs.lm_inference.decisions import (
    explicit_batch,
    explicit_config,
    explicit_routes,
    explicit_weights,
)
from edgeplace.envs.lm_inference.drl import Tier, TierObserver, tier_agents
from edgeplace.envs.lm_inference.lm_types import NUM_LMS
from edgeplace.envs.lm_inference.observation import LmObs
from edgeplace.envs.lm_inference.state_codec import decode_state
from edgeplace.policy import Observation, Policy, act


class DrlPolicy:
    """Both tiers' greedy modules for envs built from ``env_config``.

    Args:
        tiers: the tiers' agents' greedy policy (origins and nodes of :func:`tier_agents`).
    """

    def __init__(
        self, name: str, tiers: Policy, env_config: Mapping[str, Any] | LmInferenceConfig | None
    ) -> None:
        config = LmInferenceConfig.from_env_config(env_config)
        self.name, self.tiers = name, tiers
        self.cluster = config.cluster()
        self.observer = TierObserver(self.cluster, config.params)
        self.origins = tier_agents(self.cluster, Tier.UPPER)
        self.node_agents = tier_agents(self.cluster, Tier.LOWER)
        self.nodes = {agent: n for n, agent in enumerate(deployer_ids(self.cluster))}
        self._lower: tuple[np.ndarray | None, ClusterView | None, list[int]] = (None, None, [])
        """The last deployers' ``state`` entry, its view and the lower tier's actions on it (a slot's
        deployers share one)."""

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Explicit actions, one row per observation (an object array when their lengths differ)."""
        rows = [self._act(agent, obs) for agent, obs in zip(agent_ids, observations, strict=True)]
        return explicit_batch(rows)

    def _act(self, agent: str, observation: Observation) -> np.ndarray:
        state = observation[LmObs.STATE]
        if agent == PLANNER:
            return explicit_weights(np.zeros((NUM_LMS, self.cluster.num_nodes), dtype=np.int64))
        if agent == SCHEDULER:
            view = decode_state(state, self.cluster.num_nodes)[0]
            actions = act(self.tiers, self.observer.upper(view))
            return explicit_routes(self.observer.routes(np.stack([actions[a] for a in self.origins])))
        if self._lower[0] is not state:
            view = decode_state(state, self.cluster.num_nodes)[0]
            actions = act(self.tiers, self.observer.lower(view))
            self._lower = (state, view, [int(actions[a]) for a in self.node_agents])
        _, view, actions = self._lower
        node = self.nodes[agent]
        return explicit_config(self.observer.config(view, node, actions[node]) or view.node_config(node))


def load_drl_policy(
    path: str | Path, *, name: str = "drl", env_config: Mapping[str, Any] | None = None
) -> Policy:
    """The DRL hierarchy of a training run directory (its latest phase) or a phase checkpoint; it acts
    in envs of ``env_config`` (default: the one it trained on; the cluster must match)."""
    checkpoint = resolve_checkpoint(Path(path))
    metadata = read_metadata(checkpoint)
    modules: dict[str, Any] = {}
    mapping: dict[str, str] = {}
    for tier in Tier:
        multi = MultiRLModule.from_checkpoint(str(checkpoint / tier.value / MODULE_SUBDIR))
        tier_modules = metadata["agent_modules"][tier.value]
        modules.update({mid: multi[mid] for mid in set(tier_modules.values())})
        mapping.update(tier_modules)
    tiers = LearnedPolicy(name, modules, mapping)
    return DrlPolicy(name, tiers, env_config if env_config is not None else metadata["env_config"])
