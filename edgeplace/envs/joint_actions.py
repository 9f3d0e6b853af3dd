"""The action check of many agents at once: the vectorised path of :func:`~edgeplace.envs.base.check_action`
for the agents of one step (every agent of a simultaneous env, a phase of a multi-rate one).

It only decides that every action is allowed; when one is not, the caller checks agent by agent, so the
error is :func:`check_action`'s own, naming the first offending agent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from edgeplace.envs.action_masks import mask_parts
from edgeplace.obs_keys import ObsKey


@dataclass(frozen=True)
class JointActionTable:
    """The static action structure of agents whose spaces are all Discrete, or all MultiDiscrete with K
    dimensions each (a Discrete(n) is one dimension of size n).

    Shapes: high, offsets (A, K) int64 (each dimension's size; its first slot among the agent's mask
    parts laid end to end); starts (A,) int64 (the agent's first slot among all agents' parts laid end to
    end, agent by agent); part_shapes (A K,): the shape of each of those parts, in that order.
    """

    discrete: bool
    high: np.ndarray
    offsets: np.ndarray
    starts: np.ndarray
    part_shapes: tuple[tuple[int], ...]

    @classmethod
    def of(cls, spaces: Sequence[gym.Space]) -> JointActionTable | None:
        """The table of ``spaces``, or None when they mix kinds or dimension counts."""
        if all(isinstance(space, gym.spaces.Discrete) for space in spaces):
            high = np.array([[space.n] for space in spaces], dtype=np.int64)
        elif all(isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1 for space in spaces):
            if len({space.nvec.size for space in spaces}) != 1:
                return None
            high = np.stack([space.nvec for space in spaces]).astype(np.int64)
        else:
            return None
        offsets = np.cumsum(high, axis=1) - high
        widths = high.sum(axis=1)
        part_shapes = tuple((n,) for n in high.ravel().tolist())
        return cls(
            isinstance(spaces[0], gym.spaces.Discrete), high, offsets, np.cumsum(widths) - widths, part_shapes
        )

    def allowed(
        self, actions: Sequence[Any], observations: Sequence[Mapping[str, np.ndarray]]
    ) -> np.ndarray | None:
        """The actions as (A, K) int64 when every one is inside its space and allowed by its
        observation's ``action_mask`` (in Gymnasium's layout for its space), else None (also for a mask
        of another layout: the agent-by-agent check names it)."""
        try:
            values = np.asarray(actions)
        except ValueError:  # ragged: some action has the wrong shape
            return None
        values = values.reshape(len(actions), -1) if self.discrete and values.ndim == 1 else values
        if values.shape != self.high.shape or values.dtype.kind not in "iuf":
            return None
        if values.dtype.kind == "f" and not np.array_equal(values, np.round(values)):
            return None
        values = values.astype(np.int64)
        if ((values < 0) | (values >= self.high)).any():
            return None
        masks = [observation.get(ObsKey.ACTION_MASK) for observation in observations]
        if all(mask is None for mask in masks):
            return values
        if any(mask is None or isinstance(mask, tuple) == self.discrete for mask in masks):
            return None
        parts = [part for mask in masks for part in mask_parts(mask)]
        if tuple(np.shape(part) for part in parts) != self.part_shapes:
            return None
        slots = self.starts[:, None] + self.offsets + values  # (A, K) into the parts laid end to end
        if (np.concatenate(parts)[slots] <= 0).any():
            return None
        return values
