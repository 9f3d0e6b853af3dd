"""What every edgeplace scenario env shares: one seeding convention, action checks against the action
space and the observed mask, and the KPI plumbing. Three bases build on :class:`ScenarioEnv`:

- :class:`~edgeplace.envs.turn_based.TurnBasedEnv`: one agent acts at a time (chain stages, one
  embedder per arriving workflow);
- :class:`~edgeplace.envs.simultaneous.SimultaneousEnv`: every agent acts in every step;
- :class:`~edgeplace.envs.multi_rate.MultiRateEnv`: agents act every k-th slot, in phases.

Seeding: episode e of seed s draws only from ``np.random.default_rng([s, e])`` (``self.rng``).
``reset(seed=s)`` starts at episode 0 of s, a reset without a seed plays the next episode of the same
seed, and ``reset(options={EPISODE_INDEX_OPTION: e})`` replays episode e alone. An env never seeded
draws its seed from the OS once.

Actions: every action is checked before the scenario sees it; one outside the agent's action space
or forbidden by its observation's ``action_mask`` (Gymnasium's layout, :mod:`edgeplace.envs.action_masks`)
raises :class:`MaskedActionError` and leaves the env unchanged. The KPIs of a finished episode are
put in every agent's ``infos`` under :data:`KPI_INFO_KEY`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from edgeplace.envs.action_masks import ActionMask, check_mask, mask_space
from edgeplace.envs.joint_actions import JointActionTable
from edgeplace.obs_keys import ObsKey

#: ``infos[agent][KPI_INFO_KEY]`` holds the episode's KPIs (a flat ``dict[str, float]``) at its end.
KPI_INFO_KEY = "kpis"
#: ``reset(options={EPISODE_INDEX_OPTION: e})`` replays episode e of the seed, so one episode can be
#: reproduced alone from (seed, e).
EPISODE_INDEX_OPTION = "episode_index"
#: RLlib's key for "every agent" in termination/truncation dicts.
ALL_AGENTS = "__all__"

Observation = dict[str, np.ndarray]


class MaskedActionError(ValueError):
    """An agent chose an action outside its action space or forbidden by its ``action_mask``."""


def check_action(
    agent_id: str,
    action: Any,
    space: gym.Space,
    action_mask: ActionMask | None,
    sub_action_names: Sequence[str] = (),
) -> Any:
    """``action`` as the space's type (int for Discrete, (K,) int64 for MultiDiscrete) after checking it.

    ``action_mask``: the observation's mask in Gymnasium's layout (:mod:`edgeplace.envs.action_masks`),
    or None (the range is checked alone). ``sub_action_names`` name a MultiDiscrete's dimensions in the
    errors (default ``sub-action k``).

    Raises:
        MaskedActionError: outside the space, or masked out (naming the agent and the allowed values).
        ValueError: the wrong shape or a non-integer value, or a mask of another layout than the space's.
    """
    parts = None if action_mask is None else check_mask(agent_id, action_mask, space)
    if isinstance(space, gym.spaces.Discrete):
        index = int(action)
        if index != action or not 0 <= index < space.n:
            raise MaskedActionError(f"{agent_id}: action {action!r} outside [0, {space.n})")
        if parts is not None and parts[0][index] <= 0:
            allowed = np.flatnonzero(parts[0] > 0)
            raise MaskedActionError(
                f"{agent_id}: action {index} is masked out; {allowed.size} actions are allowed "
                f"(e.g. {allowed[:5].tolist()})"
            )
        return index
    if isinstance(space, gym.spaces.MultiDiscrete):
        values = np.asarray(action)
        if values.shape != space.nvec.shape or not np.array_equal(values, np.round(values)):
            raise ValueError(f"{agent_id}: expected {space.nvec.size} integers, got {action!r}")
        values = values.astype(np.int64)
        names = list(sub_action_names) or [f"sub-action {d}" for d in range(values.size)]
        bad = np.flatnonzero((values < 0) | (values >= space.nvec))
        if bad.size:
            d = int(bad[0])
            raise MaskedActionError(f"{agent_id}: {names[d]} {values[d]} outside [0, {space.nvec[d]})")
        if parts is not None:
            masked = [d for d, part in enumerate(parts) if part[values[d]] <= 0]
            if masked:
                d = masked[0]
                raise MaskedActionError(f"{agent_id}: {names[d]} {values[d]} is masked out")
        return values
    raise TypeError(f"{agent_id}: edgeplace envs check Discrete and MultiDiscrete actions, not {space}")


class ScenarioEnv(MultiAgentEnv):
    """The seeding convention, action checks and KPI plumbing of every scenario env (see the module
    docstring). Subclasses set ``possible_agents``, ``observation_spaces`` and ``action_spaces`` and
    call ``super().__init__()``; the turn structure comes from the three bases."""

    #: Names of a MultiDiscrete action's dimensions, for error messages (e.g. configuration, model).
    sub_action_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        self.rng = np.random.default_rng()
        self.seed = int(np.random.SeedSequence().generate_state(1)[0])
        self.episode_index = -1
        self._next_episode = 0
        self._action_tables: dict[tuple[str, ...], JointActionTable | None] = {}

    @property
    def request_sets(self) -> int | None:
        """How many distinct request sets the episodes replay, where they replay a finite set (e.g. a
        fixed test split); None (the default) where every episode draws its own requests."""
        return None

    def request_set(self, episode: int) -> int | None:
        """Id in ``[0, request_sets)`` of the request set episode ``episode`` replays (its noise still
        differs per seed and episode); None where :attr:`request_sets` is None. Evaluation treats the
        episodes of one set as one cluster (see :mod:`edgeplace.evaluation.design`)."""
        return None

    @abstractmethod
    def _episode_kpis(self) -> dict[str, float]:
        """The scenario's KPIs of the finished episode."""

    def _seed_episode(self, seed: int | None, options: Mapping[str, Any] | None) -> None:
        """Advance to the episode ``reset(seed, options)`` asks for and seed ``self.rng`` for it."""
        if seed is not None:
            self.seed, self._next_episode = int(seed), 0
        if options and EPISODE_INDEX_OPTION in options:
            self._next_episode = int(options[EPISODE_INDEX_OPTION])
        self.episode_index, self._next_episode = self._next_episode, self._next_episode + 1
        self.rng = np.random.default_rng([self.seed, self.episode_index])
        self.agents = list(self.possible_agents)

    def _checked(self, actions: Mapping[str, Any], observations: Mapping[str, Observation]) -> dict[str, Any]:
        """The actions of exactly the agents of ``observations`` (the ones whose turn it is), checked.

        Raises:
            ValueError: missing or unexpected agents; MaskedActionError: see :func:`check_action`.
        """
        missing = [agent for agent in observations if agent not in actions]
        extra = sorted(set(actions) - set(observations))
        if missing or extra:
            raise ValueError(
                f"expected actions of {list(observations)}: missing {missing}, unexpected {extra}"
            )
        agents = list(observations)
        table = self._joint_action_table(tuple(agents))
        if table is not None:  # one vectorised check; on a refusal, agent by agent for its error
            values = table.allowed([actions[a] for a in agents], [observations[a] for a in agents])
            if values is not None:
                rows = values[:, 0].tolist() if table.discrete else list(values)
                return dict(zip(agents, rows, strict=True))
        return {
            agent: check_action(
                agent,
                actions[agent],
                self.action_spaces[agent],
                observations[agent].get(ObsKey.ACTION_MASK),
                self.sub_action_names,
            )
            for agent in agents
        }

    def _joint_action_table(self, agents: tuple[str, ...]) -> JointActionTable | None:
        """The static action table of ``agents`` (built once per agent set), or None for one agent or
        mixed spaces."""
        if len(agents) < 2:
            return None
        if agents not in self._action_tables:
            self._action_tables[agents] = JointActionTable.of([self.action_spaces[a] for a in agents])
        return self._action_tables[agents]

    def _with_kpis(self, infos: dict[str, dict]) -> dict[str, dict]:
        """``infos`` with the finished episode's KPIs in every agent's entry."""
        kpis = self._episode_kpis()
        for agent in self.possible_agents:
            infos.setdefault(agent, {})[KPI_INFO_KEY] = kpis
        return infos


def stage_agent_ids(num_stages: int, prefix: str = "stage") -> Sequence[str]:
    """Agent ids of a chain scenario: ``stage_1 .. stage_K``."""
    return [f"{prefix}_{k}" for k in range(1, num_stages + 1)]


def placement_observation_space(
    *, max_nodes: int, node_dim: int, request_dim: int, num_items: int, item_dim: int
) -> gym.spaces.Dict:
    """The Dict observation space of an item-placement agent (see :mod:`edgeplace.obs_keys`)."""
    unbounded = {"low": -np.inf, "high": np.inf, "dtype": np.float32}
    return gym.spaces.Dict(
        {
            ObsKey.REQUEST: gym.spaces.Box(shape=(request_dim,), **unbounded),
            ObsKey.NODES: gym.spaces.Box(shape=(max_nodes, node_dim), **unbounded),
            ObsKey.NODE_MASK: gym.spaces.Box(0.0, 1.0, (max_nodes,), np.float32),
            ObsKey.ITEMS: gym.spaces.Box(shape=(num_items, item_dim), **unbounded),
            ObsKey.ITEM_NODE: gym.spaces.Box(0, max_nodes - 1, (num_items,), np.int64),
            ObsKey.ACTION_MASK: mask_space(gym.spaces.Discrete(num_items)),
        }
    )
