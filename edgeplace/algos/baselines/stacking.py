"""Stack per-agent observation dicts into batched numpy arrays (heuristics act on whole batches)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeplace.obs_keys import ObsKey
from edgeplace.policy import Observation


def stack_observations(
    observations: Sequence[Observation], keys: Sequence[str] | None = None
) -> dict[str, np.ndarray | tuple[np.ndarray, ...]]:
    """The entries ``keys`` (None: all) of B observations stacked.

    Shapes: B (...) arrays -> one (B, ...) array per key; B tuples of arrays (a MultiDiscrete action's
    mask) -> a tuple of (B, ...) arrays, which needs the agents' masks to have one shape.
    """
    if not observations:
        raise ValueError("cannot act on an empty batch of observations")
    stacked = {}
    for key in observations[0] if keys is None else keys:
        values = [obs[key] for obs in observations]
        stacked[key] = (
            tuple(np.stack(parts) for parts in zip(*values, strict=True))
            if isinstance(values[0], tuple)
            else np.stack(values)
        )
    return stacked


def masked_argmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Row-wise argmax of ``scores`` over ``mask > 0`` (lowest index on ties). Shapes: (B, M) -> (B,)."""
    return np.where(mask > 0, scores, -np.inf).argmax(axis=1)


def item_mask(batch: dict[str, np.ndarray]) -> np.ndarray:
    """The allowed items, (B, M) bool."""
    return batch[ObsKey.ACTION_MASK] > 0
