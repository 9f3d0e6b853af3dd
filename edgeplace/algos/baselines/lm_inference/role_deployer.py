"""The role-enacting deployer of the rule backend (spec d).

Each node is sent the plan's ``config_hint``; without one, the catalogue entry whose active set equals
the node's roles R_n (or, if none does, the largest subset of R_n) that maximises
``min_i cap_ni / (p_in D_i)`` over its active LMs (cap = 1 / unshared prompt time; D = the plan's
demand estimate, or 1 per LM without one; ties: the first entry). A node already heading to its
entry is left alone, so a configuration is only re-issued while the plan changes or the node has not
reached it (a step voided by a PENDING pod, a lock, or a grow capped by busy cores).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeplace.envs.lm_inference.catalogue import catalogue, entry_prompt_times
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.plan import Plan


class RoleDeployer:
    """See the module docstring."""

    def __init__(self, cluster: Cluster, params: LmInferenceParams) -> None:
        self.entries = [catalogue(cluster, n, params) for n in range(cluster.num_nodes)]
        self.capacity = [1.0 / entry_prompt_times(cluster, n, params) for n in range(cluster.num_nodes)]
        self._plan: Plan | None = None
        self._targets: tuple[NodeConfig, ...] = ()

    def targets(self, plan: Plan) -> tuple[NodeConfig, ...]:
        """The configuration each node should head to under ``plan`` (computed once per plan)."""
        if plan is not self._plan:
            self._plan = plan
            self._targets = plan.config_hint or tuple(
                self._role_entry(n, plan) for n in range(len(self.entries))
            )
        return self._targets

    def deploy(self, view: ClusterView, plan: Plan) -> Sequence[NodeConfig | None]:
        """Each node's target configuration, None to keep it (:class:`Deployer` protocol)."""
        return [
            None if target == view.node_config(n) else target for n, target in enumerate(self.targets(plan))
        ]

    def _role_entry(self, node: int, plan: Plan) -> NodeConfig:
        capacity = self.capacity[node]  # (E, I)
        active = capacity > 0
        roles = plan.roles[node]
        subset = ~(active & ~roles[None, :]).any(axis=1)
        size = active.sum(axis=1)
        exact = subset & (size == roles.sum())
        candidates = exact if exact.any() else subset & (size == size[subset].max())
        demand = np.ones(roles.size) if plan.demand_prompts_s is None else plan.demand_prompts_s
        with np.errstate(divide="ignore", invalid="ignore"):
            headroom = np.where(active, capacity / (plan.routing[:, node] * demand)[None, :], np.inf)
        worst = np.where(candidates, headroom.min(axis=1), -np.inf)
        return self.entries[node][int(np.argmax(worst))]
