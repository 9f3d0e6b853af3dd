"""Action masks in Gymnasium's layout: THE place that builds them, reads them and maps them to the padded
form the joint policies act on.

Every observation's ``action_mask`` has the layout ``space.sample(mask=...)`` takes (Gymnasium, and so
PettingZoo's tests and most tools), 1 = allowed, 0 = forbidden:

- ``Discrete(n)``: an int8 array (n,);
- ``MultiDiscrete(nvec)`` (1-d): a tuple of int8 arrays, (nvec[k],) for sub-action k.

Batches of one agent's observations (RLlib's connectors) keep the structure: (B, n), or a tuple of
(B, n_k). Agents with other action spaces have masks of other shapes; policies that act on all of them
at once read them padded (:func:`padded_parts`): sub-action k's slots ``0 .. w_k - 1``, its native
values first and False after them.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np

#: The dtype of every mask part (Gymnasium's ``MaskNDArray``).
MASK_DTYPE = np.int8

ActionMask = np.ndarray | tuple[np.ndarray, ...]
"""An observation's ``action_mask``: int8 (n,) for Discrete, a tuple of int8 (n_k,) for MultiDiscrete."""


def sub_action_sizes(space: gym.Space) -> tuple[int, ...]:
    """The number of values of each sub-action: (n,) for ``Discrete(n)``, ``nvec`` for a 1-d MultiDiscrete.

    Raises:
        TypeError: any other space.
    """
    if isinstance(space, gym.spaces.Discrete):
        return (int(space.n),)
    if isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1:
        return tuple(int(n) for n in space.nvec)
    raise TypeError(f"action masks exist for Discrete and 1-d MultiDiscrete spaces, not {space}")


def mask_space(action_space: gym.Space) -> gym.Space:
    """The observation space of ``action_space``'s mask: ``Box(0, 1, (n,), int8)``, or a ``Tuple`` of
    them for a MultiDiscrete."""
    boxes = [gym.spaces.Box(0, 1, (n,), MASK_DTYPE) for n in sub_action_sizes(action_space)]
    return boxes[0] if isinstance(action_space, gym.spaces.Discrete) else gym.spaces.Tuple(boxes)


def discrete_mask(allowed: np.ndarray) -> np.ndarray:
    """The mask of a Discrete action (or a stack of them) from allowed flags (bool or 0/1).

    Shapes: (..., n) -> (..., n) int8 (a new array).
    """
    return np.array(allowed, dtype=MASK_DTYPE)


def multi_discrete_mask(parts: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """The mask of a MultiDiscrete action from each sub-action's allowed flags (bool or 0/1).

    Shapes: K x (n_k,) -> K x (n_k,) int8, read-only views of one buffer (static masks can be shared by
    every observation).
    """
    buffer = np.concatenate([np.asarray(part).ravel() for part in parts]).astype(MASK_DTYPE)
    buffer.flags.writeable = False
    return tuple(np.split(buffer, np.cumsum([np.size(part) for part in parts])[:-1]))


def mask_parts(mask: ActionMask) -> tuple[np.ndarray, ...]:
    """The per-sub-action arrays of a mask of either layout: ``(mask,)`` for a Discrete one."""
    return mask if isinstance(mask, tuple) else (mask,)


def concatenated(mask: ActionMask) -> np.ndarray:
    """The sub-actions' masks one after another. Shapes: -> (sum(n_k),) (Discrete: the mask itself)."""
    parts = mask_parts(mask)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def check_mask(agent_id: str, mask: ActionMask, space: gym.Space) -> tuple[np.ndarray, ...]:
    """The parts of ``mask`` after checking that it has ``space``'s layout.

    Raises:
        ValueError: a mask of another layout (naming the agent, ``action_mask`` and the shapes).
    """
    sizes = sub_action_sizes(space)
    parts = mask_parts(mask)
    expected = (
        "an int8 array" if isinstance(space, gym.spaces.Discrete) else f"a tuple of {len(sizes)} arrays"
    )
    if (
        isinstance(mask, tuple) == isinstance(space, gym.spaces.Discrete)
        or len(parts) != len(sizes)
        or any(np.shape(part) != (n,) for part, n in zip(parts, sizes, strict=True))
    ):
        shapes = [np.shape(part) for part in parts]
        raise ValueError(
            f"{agent_id}: action_mask must be {expected} of lengths {list(sizes)} for {space}, "
            f"got {type(mask).__name__} of shapes {shapes}"
        )
    return parts


def padded_parts(masks: Sequence[ActionMask], sizes: Sequence[int] | None = None) -> tuple[np.ndarray, ...]:
    """Masks of B agents (of any action spaces with K sub-actions each) as one bool array per sub-action,
    each agent's values first and False in the padding.

    ``sizes`` (K,) are the padded widths (None: each sub-action's widest mask among ``masks``).

    Shapes: B masks of K parts (n_bk,) -> K x (B, w_k) bool.

    Raises:
        ValueError: masks with other numbers of sub-actions, or wider than ``sizes``.
    """
    rows = [mask_parts(mask) for mask in masks]
    counts = {len(parts) for parts in rows}
    if len(counts) != 1:
        raise ValueError(f"masks with different numbers of sub-actions: {sorted(counts)}")
    widths = np.array([[np.size(part) for part in parts] for parts in rows])  # (B, K)
    sizes = tuple(widths.max(axis=0)) if sizes is None else tuple(sizes)
    if len(sizes) != widths.shape[1] or (widths > np.array(sizes)).any():
        raise ValueError(f"masks of widths {widths.max(axis=0).tolist()} do not fit the padded sizes {sizes}")
    out = tuple(np.zeros((len(rows), size), dtype=bool) for size in sizes)
    for b, parts in enumerate(rows):
        for k, part in enumerate(parts):
            out[k][b, : part.size] = part > 0
    return out


def entry_row(entry: np.ndarray | tuple[np.ndarray, ...], index: int) -> np.ndarray | tuple[np.ndarray, ...]:
    """Row ``index`` of a batched observation entry: an array (B, ...), or a tuple of them (a batch of
    MultiDiscrete masks, as RLlib batches them). Shapes: -> (...) or a tuple of them."""
    return tuple(part[index] for part in entry) if isinstance(entry, tuple) else entry[index]
