"""pi_LLM, the policy prior of a plan (Eq. 33 of papers/llm-mappo.md, section e): the plan's binding
probabilities kept where they reach delta, renormalised over the allowed options and mixed with a little
uniform mass; uniform over the allowed options where nothing reaches delta."""

from __future__ import annotations

import numpy as np

PRIOR_THRESHOLD = 0.05
"""delta."""
PRIOR_UNIFORM_SHARE = 0.02


def policy_prior(p: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """pi_LLM of every slot. Shapes: p (..., S, O), allowed (..., S, O) bool -> (..., S, O) float32;
    each row sums to 1 over its allowed options (rows with none allowed are all zero)."""
    count = allowed.sum(axis=-1, keepdims=True)
    uniform = np.divide(allowed, count, out=np.zeros(allowed.shape), where=count > 0)
    kept = np.where(allowed & (p >= PRIOR_THRESHOLD), p, 0.0)
    mass = kept.sum(axis=-1, keepdims=True)
    thresholded = np.divide(kept, mass, out=uniform.copy(), where=mass > 0)
    return ((1 - PRIOR_UNIFORM_SHARE) * thresholded + PRIOR_UNIFORM_SHARE * uniform).astype(np.float32)
