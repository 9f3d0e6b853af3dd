"""Prompt batches of the lm-inference scenario (spec: papers/multi-agentic-lm-inference.md, section c,
"Workload").

Each slot, each origin node and each LM type independently: no request with probability
``1 - p_request``, else one request of K ~ U{1..8} prompts. A whole episode is drawn up front as one
(T, N, I) array of K (0 = no request), so two policies run on the same seed see the same requests.

The optional ``regime`` workload (generalisation tests only) redraws p_request of each LM at every
epoch boundary: with probability 0.8 it keeps its value, otherwise it takes a uniform draw from
{0.15, 0.3, 0.45}. Epoch 0 starts at the default 0.3.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

P_REQUEST = 0.3
"""Probability that an (origin, LM) pair has a request in a slot."""
MAX_PROMPTS = 8
"""K ~ U{1..MAX_PROMPTS} prompts per request."""
REGIME_LEVELS = (0.15, 0.3, 0.45)
"""p_request values of the regime workload."""
REGIME_KEEP = 0.8
"""Probability that an LM keeps its p_request at an epoch boundary (regime workload)."""


class Workload(StrEnum):
    """Workload generators by name."""

    STEADY = "steady"
    REGIME = "regime"


def regime_rates(rng: np.random.Generator, epochs: int, lms: int) -> np.ndarray:
    """p_request per epoch and LM of the regime workload.

    Draws, in order: for epochs 1..E-1, one uniform number per LM (keep if below 0.8), then one level
    index per LM (used where not kept). Shapes: returns (E, I) float64.
    """
    _check_positive(epochs, "epochs")
    rates = np.full((epochs, lms), P_REQUEST)
    for e in range(1, epochs):
        keep = rng.random(lms) < REGIME_KEEP
        drawn = np.asarray(REGIME_LEVELS)[rng.integers(0, len(REGIME_LEVELS), lms)]
        rates[e] = np.where(keep, rates[e - 1], drawn)
    return rates


def draw_prompts(
    rng: np.random.Generator,
    slots: int,
    origins: int,
    lms: int,
    *,
    workload: Workload | str = Workload.STEADY,
    epoch_slots: int = 50,
) -> np.ndarray:
    """The prompts K of every (slot, origin, LM) pair of an episode; 0 means no request.

    Draws, in order: the regime rates (``regime`` only, see :func:`regime_rates`), then one uniform
    number per pair (a request when below p_request), then one K ~ U{1..8} per pair.

    Shapes: returns (slots, origins, lms) int64 in {0..8}.

    Raises:
        ValueError: a non-positive size, or an unknown workload (naming the field).
    """
    for name, value in (("slots", slots), ("origins", origins), ("lms", lms), ("epoch_slots", epoch_slots)):
        _check_positive(value, name)
    try:
        kind = Workload(workload)
    except ValueError:
        raise ValueError(f"workload: unknown {workload!r}; known: {[w.value for w in Workload]}") from None
    if kind is Workload.REGIME:
        epochs = -(-slots // epoch_slots)
        p_request = np.repeat(regime_rates(rng, epochs, lms), epoch_slots, axis=0)[:slots, None, :]
    else:
        p_request = np.full((1, 1, lms), P_REQUEST)
    requested = rng.random((slots, origins, lms)) < p_request
    prompts = rng.integers(1, MAX_PROMPTS + 1, (slots, origins, lms))
    return np.where(requested, prompts, 0).astype(np.int64)


def _check_positive(value: int, name: str) -> None:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
