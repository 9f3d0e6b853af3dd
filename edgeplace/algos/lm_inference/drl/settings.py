"""Hyperparameters of the hierarchical DRL baseline (spec e, "Hierarchical DRL"; the upper tier's PPO
ones follow spec d's "Training"). Step counts are in slots: one slot is one env step of a tier env,
in which all six agents of the tier act."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from edgeplace.config_mapping import from_mapping


@dataclass(frozen=True)
class DrlSettings:
    """Networks, the upper tier's MAPPO and the lower tier's DQN."""

    hidden: tuple[int, ...] = (256, 256)
    """Hidden widths of every MLP (actor, critic, Q-network)."""
    num_envs: int = 4
    """Tier envs stepped together per algorithm (one env runner, in the driver)."""
    # --- upper tier: MAPPO -----------------------------------------------------------------------
    ppo_lr: float = 3e-4
    ppo_batch_slots: int = 500
    """Slots sampled per PPO iteration (6 agent steps each)."""
    ppo_minibatch_size: int = 256
    """PPO minibatch size (RLlib's, at most ``ppo_batch_slots``)."""
    ppo_epochs: int = 10
    ppo_gamma: float = 0.99
    ppo_lambda: float = 0.95
    ppo_clip: float = 0.2
    ppo_entropy: float = 0.01
    # --- lower tier: independent DQN ---------------------------------------------------------------
    dqn_lr: float = 1e-4
    replay_capacity: int = 50_000
    """Transitions the replay buffer holds."""
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_slots: int = 10_000
    """Slots over which epsilon anneals linearly (RLlib's sampled env steps, over all phases)."""
    target_update_slots: int = 500
    """Sampled slots between target-network updates."""
    dqn_batch_size: int = 32
    """Transitions per DQN update (per module)."""
    dqn_gamma: float = 0.99
    learning_starts_slots: int = 1_000
    """Sampled slots before the first DQN update."""
    dqn_fragment_slots: int = 4
    """Slots each env samples per DQN iteration (one update per iteration)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(self.hidden))
        positive = [f.name for f in dataclasses.fields(self) if f.type == "int"]
        positive += ["ppo_lr", "dqn_lr", "ppo_clip"]
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not value > 0:
                raise ValueError(f"DrlSettings.{name} must be > 0, got {value!r}")
        if not self.hidden or any(width < 1 for width in self.hidden):
            raise ValueError(f"DrlSettings.hidden: widths must be >= 1, got {list(self.hidden)}")
        if self.ppo_minibatch_size > self.ppo_batch_slots:
            raise ValueError(
                f"DrlSettings.ppo_minibatch_size ({self.ppo_minibatch_size}) must be <= ppo_batch_slots "
                f"({self.ppo_batch_slots})"
            )
        for name in ("epsilon_start", "epsilon_end", "ppo_gamma", "ppo_lambda", "dqn_gamma"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"DrlSettings.{name} must be in [0, 1], got {getattr(self, name)!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | Self | None) -> Self:
        """From a plain mapping (unknown keys raise, naming them)."""
        if isinstance(values, cls):
            return values
        return from_mapping(cls, values, "DrlSettings")

    def to_dict(self) -> dict[str, Any]:
        """As JSON-ready values."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in vars(self).items()}
