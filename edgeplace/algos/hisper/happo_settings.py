"""HAPPO's hyperparameters (spec: papers/hisper.md, section g), with the spec's defaults.

RLlib-level settings stay in ``AlgorithmConfig`` as for HISPER: ``gamma`` (0.95),
``num_envs_per_env_runner`` (20), ``seed``, ``num_gpus_per_learner``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from edgeplace.config_mapping import from_mapping


@dataclass(frozen=True)
class HAPPOSettings:
    """HAPPO: sequential per-agent PPO steps with the M correction factor and a centralised V(s)."""

    autoregressive: bool = False
    """Actor heads: factorised as HASAC's (the spec), or the autoregressive LSTM."""
    actor_lr: float = 2e-4
    critic_lr: float = 5e-4
    adam_eps: float = 1e-5
    steps_per_iteration: int = 2_000
    """Env steps per on-policy batch (20 envs x 100 slots)."""
    epochs: int = 5
    minibatches: int = 1
    clip: float = 0.2
    entropy_coeff: float = 0.01
    max_grad_norm: float = 10.0
    gae_lambda: float = 0.95
    value_norm: bool = True
    """Normalise the value targets with running statistics (HARL's ValueNorm)."""
    eval_interval_steps: int = 2_000
    eval_seed_base: int = 10_000
    eval_episodes: int = 10
    embed_dim: int = 32
    actor_hidden: tuple[int, ...] = (256, 256)
    critic_hidden: tuple[int, ...] = (512, 512, 256, 256, 128)
    lstm_hidden: int = 128

    def __post_init__(self) -> None:
        object.__setattr__(self, "actor_hidden", tuple(int(w) for w in self.actor_hidden))
        object.__setattr__(self, "critic_hidden", tuple(int(w) for w in self.critic_hidden))
        for name in ("actor_lr", "critic_lr", "adam_eps", "clip", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"happo.{name} must be positive, got {getattr(self, name)!r}")
        for name in (
            "steps_per_iteration",
            "epochs",
            "minibatches",
            "eval_episodes",
            "embed_dim",
            "lstm_hidden",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"happo.{name} must be >= 1, got {getattr(self, name)!r}")
        if self.eval_interval_steps < 0 or self.entropy_coeff < 0:
            raise ValueError("happo.eval_interval_steps and happo.entropy_coeff must be >= 0")
        if not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"happo.gae_lambda must be in [0, 1], got {self.gae_lambda!r}")
        for name in ("actor_hidden", "critic_hidden"):
            widths = getattr(self, name)
            if not widths or min(widths) < 1:
                raise ValueError(f"happo.{name} must be non-empty positive widths, got {widths!r}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> Self:
        """Build from a plain dict, naming unknown keys."""
        return from_mapping(cls, values, "happo settings")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
