"""The random-from-mask baseline of the metaverse-dag scenario (papers/llm-mappo.md, section f)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeplace.envs.action_masks import padded_parts
from edgeplace.envs.metaverse_dag.observation import MvObsKey
from edgeplace.policy import Observation


class RandomFromMaskPolicy:
    """Every sub-action (place per slot, route per DAG edge) uniform over the values its mask allows."""

    name = "random"

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act_batch(self, agent_ids: Sequence[str], observations: Sequence[Observation]) -> np.ndarray:
        """Shapes: B observations -> (B, S + E) int64."""
        parts = padded_parts([obs[MvObsKey.ACTION_MASK] for obs in observations])  # P x (B, w_p)
        width = max(part.shape[1] for part in parts)
        allowed = np.zeros((len(observations), len(parts), width), bool)
        for p, part in enumerate(parts):
            allowed[:, p, : part.shape[1]] = part
        scores = np.where(allowed, self.rng.random(allowed.shape), -1.0)  # argmax: uniform over allowed
        return scores.argmax(axis=2).astype(np.int64)
