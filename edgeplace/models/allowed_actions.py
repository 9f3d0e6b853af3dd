"""The allowed actions of a batch of observations' ``action_mask``, as RLlib's connectors deliver it.

Observations carry masks in Gymnasium's layout (:mod:`edgeplace.envs.action_masks`); RLlib batches them
structure by structure, so a module receives an int8 tensor (B, n) for a Discrete action and a tuple of
(B, n_k) tensors for a MultiDiscrete one.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor


def allowed_actions(mask: Tensor | Sequence[Tensor]) -> Tensor | tuple[Tensor, ...]:
    """True where an action (a sub-action's value) is allowed.

    Shapes: (B, n) -> (B, n) bool; K x (B, n_k) -> K x (B, n_k) bool.
    """
    if isinstance(mask, Tensor):
        return mask > 0
    return tuple(part > 0 for part in mask)
