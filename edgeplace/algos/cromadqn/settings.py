"""CROMADQN-like's settings (papers/llm-mappo.md, f) and learner metric names.

Kept free of torch and Ray so that a scenario spec can name them.

Every step count is in env steps, i.e. in each EC's own transitions: all ECs act at every step, so an env
step is one transition per agent (RLlib's replay buffer, target-update clock and epsilon clock all count
env steps). ``TrainConfig.timesteps`` counts agent decisions: the builder divides it by K.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

from edgeplace.config_mapping import from_mapping

_WHERE = "cromadqn settings"


class CromadqnMetric(StrEnum):
    """CROMADQN's learner results (per module): RLlib DQN's names where they mean the same."""

    QF_LOSS = "qf_loss"  # mean over branches and samples of Huber(Q_b(s, a_b) - y)
    QF_MEAN = "qf_mean"  # mean of Q_b(s, a_b) over branches and samples
    TD_ERROR_MEAN = "td_error_mean"  # mean of |Q_b(s, a_b) - y|
    TARGET_MEAN = "cromadqn/target_mean"  # mean of the shared branching target y


CROMADQN_LEARNER_METRICS = tuple(str(metric) for metric in CromadqnMetric)


@dataclass(frozen=True)
class CromadqnSettings:
    """Double DQN with branching dueling heads and shared parameters; the spec's values by default."""

    lr: float = 1e-4
    """Adam learning rate."""
    batch_size: int = 256
    """Agent transitions per update (RLlib's ``train_batch_size_per_learner``)."""
    gamma: float = 0.99
    replay_capacity: int = 100_000
    """Replay buffer size in env steps (each EC's own transitions)."""
    target_update_steps: int = 1_000
    """Env steps between two hard target-network updates."""
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_fraction: float = 0.5
    """Share of the budget over which epsilon anneals linearly from start to end."""
    learning_starts: int = 1_000
    """Env steps sampled before the first update (paper silent; RLlib DQN's default)."""
    rollout_fragment_length: int = 4
    """Env steps each env copy samples per sampling round (one update per round by default). Measured on
    2 cores (16 env copies, batch 256, tiny widths): 4 samples 2.6x faster than 1, RLlib's episode replay
    buffer paying per stored episode chunk."""
    training_intensity: float | None = None
    """RLlib's replayed-to-sampled steps ratio (None: one update per sampling round of
    ``rollout_fragment_length`` x ``num_envs_per_env_runner`` env steps)."""
    iteration_steps: int = 1_000
    """Env steps sampled per training iteration (RLlib's ``min_sample_timesteps_per_iteration``)."""
    n_step: int = 1
    """n-step returns (1: the spec's one-step double DQN)."""
    grad_clip: float = 40.0
    """Global-norm gradient clip (RLlib DQN's default; paper silent)."""
    huber: bool = True
    """Huber TD loss (False: squared error)."""
    coral_reef: bool = False
    """Coral-reef initial placement (population 20, 10 generations): optional in the spec and not
    implemented; True raises."""

    def __post_init__(self) -> None:
        for name in (
            "batch_size",
            "replay_capacity",
            "target_update_steps",
            "rollout_fragment_length",
            "iteration_steps",
            "n_step",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{_WHERE}: {name} must be an integer >= 1, got {value!r}")
        if isinstance(self.learning_starts, bool) or not isinstance(self.learning_starts, int):
            raise ValueError(f"{_WHERE}: learning_starts must be an integer, got {self.learning_starts!r}")
        if self.learning_starts < 0:
            raise ValueError(f"{_WHERE}: learning_starts must be >= 0, got {self.learning_starts!r}")
        for name in ("lr", "grad_clip"):
            if not _finite(getattr(self, name)) or getattr(self, name) <= 0:
                raise ValueError(f"{_WHERE}: {name} must be > 0, got {getattr(self, name)!r}")
        for name in ("gamma", "epsilon_start", "epsilon_end"):
            if not _finite(getattr(self, name)) or not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{_WHERE}: {name} must be in [0, 1], got {getattr(self, name)!r}")
        if not _finite(self.epsilon_fraction) or not 0.0 < self.epsilon_fraction <= 1.0:
            raise ValueError(f"{_WHERE}: epsilon_fraction must be in (0, 1], got {self.epsilon_fraction!r}")
        if self.training_intensity is not None and (
            not _finite(self.training_intensity) or self.training_intensity <= 0
        ):
            raise ValueError(
                f"{_WHERE}: training_intensity must be > 0 or null, got {self.training_intensity!r}"
            )
        if self.rollout_fragment_length < self.n_step:
            raise ValueError(
                f"{_WHERE}: rollout_fragment_length ({self.rollout_fragment_length}) must be >= n_step "
                f"({self.n_step})"
            )
        for name in ("huber", "coral_reef"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{_WHERE}: {name} must be true or false, got {getattr(self, name)!r}")
        if self.coral_reef:
            raise ValueError(f"{_WHERE}: coral_reef initial placement is not implemented; leave it false")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> Self:
        """Build from a plain dict, naming unknown keys."""
        return from_mapping(cls, values, _WHERE)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def epsilon_schedule(self, budget_steps: int) -> list[list[float]]:
        """RLlib's piecewise epsilon schedule: start -> end over ``epsilon_fraction`` of ``budget_steps``
        env steps, then flat."""
        end = max(1, round(self.epsilon_fraction * budget_steps))
        return [[0, self.epsilon_start], [end, self.epsilon_end]]


def _finite(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
