"""The toy's baselines: a masked uniform choice, and the least-loaded allowed node."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeplace.obs_keys import ObsKey
from edgeplace.policy import Observation
from edgeplace_toy.env import CAPACITY, FEATURES


class RandomToyPolicy:
    """A uniform choice among the allowed nodes."""

    name = "random"

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        masks = np.stack([obs[ObsKey.ACTION_MASK] for obs in observations]) > 0
        scores = np.where(masks, self.rng.random(masks.shape), -1.0)
        return scores.argmax(axis=1).astype(np.int64)


class LeastLoadedPolicy:
    """The allowed node with the lowest load / capacity."""

    name = "least-loaded"

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        n = CAPACITY.size
        utilisation = np.stack([obs[FEATURES][2 : 2 + n] for obs in observations])
        masks = np.stack([obs[ObsKey.ACTION_MASK] for obs in observations]) > 0
        return np.where(masks, utilisation, np.inf).argmin(axis=1).astype(np.int64)


BASELINES = {
    "random": lambda seed, env_config: RandomToyPolicy(seed),
    "least-loaded": lambda seed, env_config: LeastLoadedPolicy(),
}
