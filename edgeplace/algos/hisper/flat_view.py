"""The generic joint view of any simultaneous env with Dict observations of Box entries (plus an
optional ``action_mask``) and Discrete or MultiDiscrete actions.

Each agent's block of the global state is its observation flattened (every entry but ``action_mask``,
in the Dict space's key order, zero-padded to the widest agent's), then its action mask over the padded
sub-actions (the observation's mask, in Gymnasium's layout, where it has one, so masks may change every
step), and nothing is
shared. The reward the critic learns is the mean of the agents' rewards (the team reward, for an env
that gives every agent the same one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from edgeplace.algos.hisper.observation_reader import ObservationReader
from edgeplace.envs.action_masks import sub_action_sizes
from edgeplace.envs.simultaneous import SimultaneousEnv
from edgeplace.obs_keys import ObsKey


def native_sizes(agent: str, space: gym.Space) -> tuple[int, ...]:
    """The sub-action sizes of a Discrete (one) or 1-d MultiDiscrete action space."""
    try:
        return sub_action_sizes(space)
    except TypeError as err:
        raise TypeError(
            f"{agent}: the joint algorithms act in Discrete or 1-d MultiDiscrete spaces, not {space}"
        ) from err


def own_keys(agent: str, space: gym.Space) -> tuple[str, ...]:
    """The Box entries of a Dict observation space but the action mask, in the space's order."""
    if not isinstance(space, gym.spaces.Dict):
        raise TypeError(f"{agent}: the generic joint view reads Dict observations, not {space}")
    keys = tuple(key for key in space.spaces if key != ObsKey.ACTION_MASK)
    for key in keys:
        if not isinstance(space[key], gym.spaces.Box):
            raise TypeError(f"{agent}: observation entry {key!r} is {space[key]}, not a Box")
    return keys


class FlatJointView:
    """The generic :class:`~edgeplace.algos.hisper.joint_view.JointView` of ``env``.

    Shapes: global state (A (R + W),) with R the widest flattened observation and W = sum(sizes);
    actions (A, K); reward parts (1,).

    Raises:
        TypeError: an observation or action space it cannot read.
        ValueError: agents with other observation keys, sub-action counts or action space kinds.
    """

    server_dim = link_dim = 0
    masks_in_state = True
    reward_parts = ("reward",)
    shared_keys: tuple[str, ...] = ()

    def __init__(self, env: SimultaneousEnv) -> None:
        self.agents = tuple(env.possible_agents)
        keys = {own_keys(agent, env.observation_spaces[agent]) for agent in self.agents}
        if len(keys) != 1:
            raise ValueError(
                f"the generic joint view needs the same observation keys for every agent: {keys}"
            )
        (self.own_keys,) = keys
        native = [native_sizes(agent, env.action_spaces[agent]) for agent in self.agents]
        if len({len(sizes) for sizes in native}) != 1:
            raise ValueError(
                f"agents have different numbers of sub-actions: {dict(zip(self.agents, native, strict=True))}"
            )
        kinds = {type(env.action_spaces[agent]) for agent in self.agents}
        if len(kinds) != 1:
            raise ValueError(f"agents mix action space kinds {sorted(k.__name__ for k in kinds)}")
        self.discrete = kinds == {gym.spaces.Discrete}
        self.sizes = tuple(int(n) for n in np.max(native, axis=0))
        slots = [np.arange(size) for size in self.sizes]
        self.structural_masks = np.stack(
            [np.concatenate([s < n for s, n in zip(slots, sizes, strict=True)]) for sizes in native]
        )  # (A, W)
        self.request_dim = max(
            sum(gym.spaces.flatdim(env.observation_spaces[agent][key]) for key in self.own_keys)
            for agent in self.agents
        )
        self.token_dim = int(self.structural_masks.shape[1])
        self.reader = ObservationReader(self.own_keys, (), masks_in_observation=True, discrete=self.discrete)

    def global_state(self, observations: Mapping[str, Mapping[str, np.ndarray]]) -> np.ndarray:
        rows = [observations[agent] for agent in self.agents]
        own = self.reader.own(rows, self.request_dim)  # (A, R)
        masks = self.reader.masks(rows, self.structural_masks)  # (A, W)
        return np.concatenate([own, masks.astype(np.float32)], axis=1).ravel()

    def reward(self, rewards: Mapping[str, float], infos: Mapping[str, Mapping[str, Any]]) -> np.ndarray:
        return np.array([np.mean([rewards[agent] for agent in self.agents])], dtype=np.float32)

    def env_actions(self, actions: np.ndarray) -> dict[str, Any]:
        if self.discrete:
            return {agent: int(actions[n, 0]) for n, agent in enumerate(self.agents)}
        return dict(zip(self.agents, actions, strict=True))

    def random_actions(self, rng: np.random.Generator, states: np.ndarray) -> np.ndarray:
        """Each sub-action uniform among its allowed values (the masks stored in ``states``)."""
        e, a, r = len(states), len(self.agents), self.request_dim
        masks = states[:, : a * (r + self.token_dim)].reshape(e, a, -1)[..., r:] > 0.5  # (E, A, W)
        scores = np.where(masks, rng.random(masks.shape), -1.0)
        parts = np.split(scores, np.cumsum(self.sizes)[:-1], axis=-1)  # K x (E, A, n_k)
        return np.stack([part.argmax(-1) for part in parts], axis=-1)
