"""z_plan (Eq. 9 of papers/llm-mappo.md, section d): a plan's 64-d embedding,
``[P_w w (4 -> 8) | P_Pi summary (15 -> 40) | P_psi psi (3 -> 8) | P_phi phi (1 -> 8)]``.

The projections are fixed Gaussian matrices drawn from one constant seed, so every backend embeds
plans alike and an agent trained on one planner reads another's plans the same way.
"""

from __future__ import annotations

import numpy as np

from edgeplace.planners.soft_plans.protocol import NUM_PENALTIES, NUM_WEIGHTS, Tier

PLAN_EMBEDDING_DIM = 64
SUMMARY_PER_CLASS = 5
"""Per class: mean entropy of p over its slots, and the mass on ES, EC, CLOUD and NONE."""
_BLOCKS = ((NUM_WEIGHTS, 8), (3 * SUMMARY_PER_CLASS, 40), (NUM_PENALTIES, 8), (1, 8))
_SEED = 20_26


def _projections() -> list[np.ndarray]:
    rng = np.random.default_rng(_SEED)
    return [rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_out)) for n_in, n_out in _BLOCKS]


_PROJECTIONS = _projections()


def plan_summary(
    p: np.ndarray, option_tier: np.ndarray, slot_class: np.ndarray, slot_valid: np.ndarray, classes: int = 3
) -> np.ndarray:
    """P_Pi's input: per class, the mean over its real slots of [entropy of p, mass per tier].

    Shapes: p (S, O); option_tier (O,) :class:`Tier` (padding counts as NONE: it holds no mass);
    slot_class (S,); slot_valid (S,) bool -> (classes * 5,) float64.
    """
    entropy = -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1)  # (S,)
    tier_mass = p @ np.eye(len(Tier))[option_tier]  # (S, 4)
    rows = np.column_stack([entropy, tier_mass])
    summary = np.zeros((classes, SUMMARY_PER_CLASS))
    for c in range(classes):
        mine = slot_valid & (slot_class == c)
        if mine.any():
            summary[c] = rows[mine].mean(axis=0)
    return summary.ravel()


def plan_embedding(w: np.ndarray, summary: np.ndarray, psi: np.ndarray, phi: float) -> np.ndarray:
    """z_plan. Shapes: (4,), (15,), (3,), scalar -> (64,) float32."""
    parts = (w, summary, psi, np.array([phi]))
    return np.concatenate([x @ proj for x, proj in zip(parts, _PROJECTIONS, strict=True)]).astype(np.float32)
