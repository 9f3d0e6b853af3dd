"""The planner's macro policy (spec d, "Planner"): routing probabilities p_in and node roles R_n, with
an optional per-node configuration hint (the rule backend's OPT planner gives one)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.node_config import NodeConfig

MAX_WEIGHT = 4
"""Planner weights w_in are in {0..MAX_WEIGHT}."""


@dataclass(frozen=True, eq=False)
class Plan:
    """A macro policy for one epoch.

    Shapes (I LMs, N nodes):
        routing: (I, N) p_in, each row sums to 1 over nodes that can host the LM (0 elsewhere; a row
            of an LM no node can host is all 0).
        roles: (N, I) bool, R_n: the LMs node n is expected to run.
        config_hint: one configuration per node, or None.
        demand_prompts_s: (I,) the planner's demand estimate D-hat_i in prompts/s, or None.
    """

    routing: np.ndarray
    roles: np.ndarray
    config_hint: tuple[NodeConfig, ...] | None = None
    demand_prompts_s: np.ndarray | None = None

    def __post_init__(self) -> None:
        routing = np.array(self.routing, dtype=np.float64)
        roles = np.array(self.roles, dtype=bool)
        if routing.ndim != 2 or roles.shape != routing.T.shape:
            raise ValueError(
                f"Plan: routing (I, N) and roles (N, I) disagree: {routing.shape}, {roles.shape}"
            )
        if not np.isfinite(routing).all() or (routing < 0).any():
            raise ValueError("Plan.routing: probabilities must be finite and >= 0")
        row_sum = routing.sum(axis=1)
        if not (np.isclose(row_sum, 1.0) | (row_sum == 0)).all():
            raise ValueError(f"Plan.routing: each LM's row must sum to 1, got {routing.sum(axis=1).tolist()}")
        if self.config_hint is not None and len(self.config_hint) != roles.shape[0]:
            raise ValueError(
                f"Plan.config_hint: expected {roles.shape[0]} entries, got {len(self.config_hint)}"
            )
        for value in (routing, roles):
            value.setflags(write=False)
        object.__setattr__(self, "routing", routing)
        object.__setattr__(self, "roles", roles)

    @classmethod
    def uniform(cls, cluster: Cluster) -> Plan:
        """Uniform routing over the nodes that can host each LM, all of them in role."""
        return cls.from_weights(np.zeros(cluster.can_host.T.shape, dtype=np.int64), cluster)

    @classmethod
    def from_weights(cls, weights: np.ndarray, cluster: Cluster) -> Plan:
        """The planner action's plan: p_in = w_in / sum_n w_in (Eq. 12), R_n = {i : w_in > 0} (Eq. 13);
        an all-zero row means uniform over the nodes that can host the LM, all in role.

        Shapes: weights (I, N) int in {0..4}.

        Raises:
            ValueError: a weight out of range or on a node that can never host the LM.
        """
        weights = np.asarray(weights)
        feasible = cluster.can_host.T
        if weights.shape != feasible.shape:
            raise ValueError(f"weights: expected shape {feasible.shape}, got {weights.shape}")
        if ((weights < 0) | (weights > MAX_WEIGHT)).any():
            raise ValueError(f"weights: expected integers in [0, {MAX_WEIGHT}]")
        if (weights[~feasible] > 0).any():
            raise ValueError("weights: a weight on a node that can never host the LM")
        weights = np.where((weights.sum(axis=1) == 0)[:, None], feasible, weights).astype(np.float64)
        total = weights.sum(axis=1, keepdims=True)
        routing = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
        return cls(routing, (weights > 0).T)
