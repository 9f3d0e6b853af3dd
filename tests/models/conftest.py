"""Tiny item-placement observation spaces and batches, built without any environment."""

from collections.abc import Callable

import gymnasium as gym
import numpy as np
import pytest
import torch

from edgeplace.envs.action_masks import discrete_mask, mask_space
from edgeplace.obs_keys import ObsKey

REQUEST_DIM, NODE_DIM, ITEM_DIM = 5, 4, 3
NUM_NODES, NUM_ITEMS = 10, 12

SpaceFactory = Callable[..., gym.spaces.Dict]
BatchFactory = Callable[..., dict[str, torch.Tensor]]


def placement_space(
    num_nodes: int = NUM_NODES,
    num_items: int = NUM_ITEMS,
    request_dim: int = REQUEST_DIM,
    node_dim: int = NODE_DIM,
    item_dim: int = ITEM_DIM,
) -> gym.spaces.Dict:
    """An observation space shaped like every item-placement scenario's (``edgeplace.obs_keys``)."""
    return gym.spaces.Dict(
        {
            ObsKey.REQUEST: gym.spaces.Box(-1.0, 1.0, (request_dim,), np.float32),
            ObsKey.NODES: gym.spaces.Box(-1.0, 1.0, (num_nodes, node_dim), np.float32),
            ObsKey.NODE_MASK: gym.spaces.Box(0.0, 1.0, (num_nodes,), np.float32),
            ObsKey.ITEMS: gym.spaces.Box(-1.0, 1.0, (num_items, item_dim), np.float32),
            ObsKey.ITEM_NODE: gym.spaces.Box(0, num_nodes - 1, (num_items,), np.int64),
            ObsKey.ACTION_MASK: mask_space(gym.spaces.Discrete(num_items)),
        }
    )


def consistent_obs(
    space: gym.spaces.Dict, rng: np.random.Generator, allowed_fraction: float = 0.5
) -> dict[str, np.ndarray]:
    """A space sample made consistent: a prefix of real nodes, zero padding rows, items hosted on
    real nodes, a binary action mask allowing about ``allowed_fraction`` of the items (at least one).
    """
    obs = space.sample()
    num_nodes, num_items = obs[ObsKey.NODE_MASK].shape[0], obs[ObsKey.ACTION_MASK].shape[0]
    num_real = int(rng.integers(1, num_nodes + 1))
    obs[ObsKey.NODE_MASK] = (np.arange(num_nodes) < num_real).astype(np.float32)
    obs[ObsKey.NODES][num_real:] = 0.0
    obs[ObsKey.ITEM_NODE] = rng.integers(0, num_real, num_items)
    mask = discrete_mask(rng.random(num_items) < allowed_fraction)  # int8, as every env's
    mask[rng.integers(num_items)] = 1
    obs[ObsKey.ACTION_MASK] = mask
    return obs


def stack_obs(samples: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """Stack per-agent observations into the batched tensor dict RLlib puts under ``Columns.OBS``."""
    return {key: torch.as_tensor(np.stack([s[key] for s in samples])) for key in samples[0]}


@pytest.fixture
def make_space() -> SpaceFactory:
    return placement_space


@pytest.fixture
def make_obs() -> BatchFactory:
    """``make_obs(batch_size, seed, allowed_fraction, **placement_space_kwargs)`` -> batched tensors."""

    def make(
        batch_size: int, seed: int = 0, allowed_fraction: float = 0.5, **space_kwargs: int
    ) -> dict[str, torch.Tensor]:
        space = placement_space(**space_kwargs)
        space.seed(seed)
        rng = np.random.default_rng(seed)
        return stack_obs([consistent_obs(space, rng, allowed_fraction) for _ in range(batch_size)])

    return make
