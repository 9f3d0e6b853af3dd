"""Stack per-agent observation dicts into batched numpy arrays (heuristics act on whole batches)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeplace.obs_keys import ObsKey
from edgeplace.policy import Observation


def stack_observations(observations: Sequence[Observation]) -> dict[str, np.ndarray]:
    """Shapes: B observations of (...) arrays -> one (B, ...) array per key."""
    if not observations:
        raise ValueError("cannot act on an empty batch of observations")
    return {key: np.stack([obs[key] for obs in observations]) for key in observations[0]}


def masked_argmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Row-wise argmax of ``scores`` over ``mask > 0`` (lowest index on ties). Shapes: (B, M) -> (B,)."""
    return np.where(mask > 0, scores, -np.inf).argmax(axis=1)


def item_mask(batch: dict[str, np.ndarray]) -> np.ndarray:
    """The allowed items, (B, M) bool."""
    return batch[ObsKey.ACTION_MASK] > 0
