"""The two forms of action the env takes (spec d, "Backends": one protocol, observation dict in,
action dict out), and the decisions they decode to.

- **learned** (the RLlib spaces of :mod:`.masks`, checked against the observation's mask; a masked
  value raises :class:`~edgeplace.envs.base.MaskedActionError`): planner (I N,) weights, scheduler
  (N I,) destinations, deployer a catalogue index (0 = keep).
- **explicit** (the rule and llm backends, whose plans and configurations neither the catalogue nor the
  masks cover): the payload followed by the number of fallbacks the backend took to make it (counted
  in the KPIs). Planner (I N + 1,) weights; scheduler (N I + 1,) destinations; deployer (3 I + 1,), a
  :class:`NodeConfig` as its mode, cores and vgpus rows (the configuration the node is heading to
  keeps it, even while a locked pod's target makes that exceed Eq. 1). Masks do not apply, as the
  spec rules for other backends: the simulator ignores (and counts) a locked pod's part, an off-role
  route is counted, a destination that cannot host the LM fails its request at once. A malformed
  decision raises ValueError naming the agent and the field, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.lm_types import NUM_LMS
from edgeplace.envs.lm_inference.masks import KEEP, CatalogueTable
from edgeplace.envs.lm_inference.node_config import NodeConfig
from edgeplace.envs.lm_inference.plan import Plan

CONFIG_ROWS = 3
"""Rows of an explicit configuration: mode, cores, vgpus."""
NOT_IN_CATALOGUE = -1
"""The learned form of a deployer's configuration that no catalogue entry of its node equals."""


@dataclass(frozen=True, eq=False)
class Decision:
    """One agent's decoded action.

    ``value``: the planner's :class:`Plan`, the scheduler's (N, I) int64 destinations, or a deployer's
    :class:`NodeConfig` (None: keep); ``weights``: the planner's (I, N) weights (None otherwise);
    ``fallbacks``: how many fallbacks the backend took (0 for learned actions).
    """

    value: Plan | np.ndarray | NodeConfig | None
    fallbacks: int = 0
    weights: np.ndarray | None = None


def explicit_batch(rows: list[np.ndarray]) -> np.ndarray:
    """Explicit actions as one ``act_batch`` answer: stacked when their lengths agree, else an object
    array of the rows. Shapes: -> (B, D) or (B,) object."""
    if len({row.shape for row in rows}) == 1:
        return np.stack(rows)
    out = np.empty(len(rows), dtype=object)
    out[:] = rows
    return out


def explicit_weights(weights: np.ndarray, fallbacks: int = 0) -> np.ndarray:
    """The planner's explicit action. Shapes: weights (I, N) -> (I N + 1,) int64."""
    return np.append(np.asarray(weights, dtype=np.int64).ravel(), fallbacks)


def explicit_routes(destinations: np.ndarray, fallbacks: int = 0) -> np.ndarray:
    """The scheduler's explicit action. Shapes: destinations (N, I) -> (N I + 1,) int64."""
    return np.append(np.asarray(destinations, dtype=np.int64).ravel(), fallbacks)


def explicit_config(config: NodeConfig, fallbacks: int = 0) -> np.ndarray:
    """A deployer's explicit action. Shapes: -> (3 I + 1,) int64."""
    return np.array([*config.mode, *config.cores, *config.vgpus, fallbacks], dtype=np.int64)


class DecisionCodec:
    """Tells the two forms apart and decodes them for one cluster.

    Args:
        planner, scheduler: the two agents' ids; ``deployers``: deployer id -> node index.
        spaces: every agent's action space.
    """

    def __init__(
        self,
        cluster: Cluster,
        table: CatalogueTable,
        planner: str,
        scheduler: str,
        deployers: dict[str, int],
        spaces: dict[str, gym.Space],
    ) -> None:
        self.cluster, self.table = cluster, table
        self.planner, self.scheduler, self.deployers = planner, scheduler, deployers
        self.explicit_size = {agent: _learned_size(space) + 1 for agent, space in spaces.items()}
        for agent in deployers:
            self.explicit_size[agent] = CONFIG_ROWS * NUM_LMS + 1

    def is_explicit(self, agent: str, action: object) -> bool:
        """Whether ``action`` has the explicit form of ``agent``'s decisions."""
        return np.ndim(action) == 1 and np.size(action) == self.explicit_size[agent]

    def learned(self, agent: str, action: int | np.ndarray) -> Decision:
        """The decision of a checked learned action."""
        n = self.cluster.num_nodes
        if agent == self.planner:
            weights = np.asarray(action).reshape(NUM_LMS, n)
            return Decision(Plan.from_weights(weights, self.cluster), weights=weights)
        if agent == self.scheduler:
            return Decision(np.asarray(action).reshape(n, NUM_LMS))
        return Decision(self.table.config(self.deployers[agent], int(action)))

    def learned_form(self, agents: Sequence[str], actions: np.ndarray, view: ClusterView) -> np.ndarray:
        """The learned actions that decode to the explicit ``actions`` of one phase's ``agents`` (the
        planner, the scheduler, or deployers) in state ``view``, fallbacks dropped: the planner's
        weights and the scheduler's destinations as they are, a deployer's configuration as
        :func:`catalogue_actions`. The masks are not checked (the rule backends may break them).

        Shapes: actions (B, D) explicit rows -> (B, K) int64 (K = 1 for deployers).
        """
        payload = np.asarray(actions, dtype=np.int64)[:, :-1]
        if self.planner in agents or self.scheduler in agents:
            return payload
        nodes = [self.deployers[agent] for agent in agents]
        configs = payload.reshape(len(agents), CONFIG_ROWS, NUM_LMS)
        return catalogue_actions(self.table, view, nodes, configs)[:, None]

    def explicit(self, agent: str, action: np.ndarray, view: ClusterView) -> Decision:
        """The decision of an explicit action in state ``view``, validated.

        Raises:
            ValueError: naming the agent and the field that is wrong.
        """
        values = np.asarray(action)
        if not np.array_equal(values, np.round(values)):
            raise ValueError(f"{agent}: an explicit action holds integers, got {action!r}")
        values = values.astype(np.int64)
        payload, fallbacks = values[:-1], int(values[-1])
        if fallbacks < 0:
            raise ValueError(f"{agent}: field 'fallbacks' must be >= 0, got {fallbacks}")
        n = self.cluster.num_nodes
        try:
            if agent == self.planner:
                weights = payload.reshape(NUM_LMS, n)
                return Decision(Plan.from_weights(weights, self.cluster), fallbacks, weights)
            if agent == self.scheduler:
                destinations = payload.reshape(n, NUM_LMS)
                if ((destinations < 0) | (destinations >= n)).any():
                    raise ValueError(f"field 'destinations' must be node indices in [0, {n})")
                return Decision(destinations, fallbacks)
            node = self.deployers[agent]
            rows = payload.reshape(CONFIG_ROWS, NUM_LMS)
            if np.array_equal(rows, [view.mode[node], view.cores[node], view.vgpus[node]]):
                return Decision(None, fallbacks)  # where the node is heading: keep
            config = NodeConfig(*rows)
            config.check_fits(self.cluster, node)
            return Decision(config, fallbacks)
        except ValueError as err:
            raise ValueError(f"{agent}: {err}") from None


def catalogue_actions(
    table: CatalogueTable, view: ClusterView, nodes: Sequence[int], configs: np.ndarray
) -> np.ndarray:
    """Deployer actions asking ``nodes`` for ``configs`` in state ``view``: :data:`KEEP` where the
    configuration is where the node is heading, else 1 + the index of the equal entry of the node's
    catalogue, :data:`NOT_IN_CATALOGUE` where none is equal.

    Shapes: nodes (B,), configs (B, 3, I) mode, cores and vgpus rows -> (B,) int64.
    """
    nodes = np.asarray(nodes, dtype=np.int64)
    heading = np.stack([view.mode, view.cores, view.vgpus], axis=1)[nodes]  # (B, 3, I)
    entries = np.stack([table.mode, table.cores, table.vgpus], axis=2)[nodes]  # (B, E, 3, I)
    equal = (entries == configs[:, None]).all(axis=(2, 3)) & table.valid[nodes]  # (B, E)
    index = np.where(equal.any(axis=1), equal.argmax(axis=1) + 1, NOT_IN_CATALOGUE)
    return np.where((configs == heading).all(axis=(1, 2)), KEEP, index).astype(np.int64)


def _learned_size(space: gym.Space) -> int:
    return 1 if isinstance(space, gym.spaces.Discrete) else int(np.size(space.nvec))
