"""How a trained joint policy reads its actors' inputs from agents' observation dicts.

The joint algorithms learn from global states; a policy acting in an env (evaluation, Serve) gets each
agent's observation dict instead. A :class:`ObservationReader` names the observation entries that make
up an actor's inputs, so that a checkpoint acts without the env that trained it: the agent's own input
is the ``own_keys`` entries flattened and concatenated (zero-padded to the actor's width), each shared
input one ``shared_keys`` entry, and the action masks are the structural ones, restricted by the
observation's ``action_mask`` where ``masks_in_observation``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from edgeplace.envs.action_masks import concatenated
from edgeplace.obs_keys import ObsKey
from edgeplace.policy import Observation


@dataclass(frozen=True)
class ObservationReader:
    """The observation entries of the actors' inputs (saved with checkpoints)."""

    own_keys: tuple[str, ...]
    """Entries of the agent's own input, flattened and concatenated in this order."""
    shared_keys: tuple[str, ...] = ()
    """Entries every agent observes alike, one actor input each (e.g. dnn-inference's servers, links)."""
    masks_in_observation: bool = False
    """Whether the observation's ``action_mask`` (Gymnasium's layout for the agent's action space)
    restricts the structural masks; False: the structural masks alone."""
    discrete: bool = False
    """Whether the agents' action spaces are Discrete (one sub-action, acted as a scalar)."""

    def own(self, observations: Sequence[Observation], width: int) -> np.ndarray:
        """Each row's own input. Shapes: -> (B, width) float32 (zero-padded)."""
        out = np.zeros((len(observations), width), dtype=np.float32)
        for row, obs in enumerate(observations):
            flat = np.concatenate([np.ravel(obs[key]) for key in self.own_keys])
            out[row, : flat.size] = flat
        return out

    def shared(self, observations: Sequence[Observation]) -> list[np.ndarray]:
        """Each shared input of every row. Shapes: -> one (B, F_i) float32 per shared key."""
        return [
            np.stack([np.asarray(obs[key], np.float32) for obs in observations]) for key in self.shared_keys
        ]

    def masks(self, observations: Sequence[Observation], structural: np.ndarray) -> np.ndarray:
        """Each row's action mask over the padded sub-actions.

        Shapes: structural (B, W) bool (True: a native slot of the row's agent) -> (B, W) bool
        """
        if not self.masks_in_observation:
            return structural
        out = structural.copy()
        for row, obs in enumerate(observations):
            if ObsKey.ACTION_MASK in obs:
                out[row, structural[row]] = concatenated(obs[ObsKey.ACTION_MASK]) > 0
        return out

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        return cls(
            tuple(values["own_keys"]),
            tuple(values["shared_keys"]),
            bool(values["masks_in_observation"]),
            bool(values["discrete"]),
        )
