"""The env config of a DRL tier env: which tier trains, and the lm-inference env it runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from edgeplace.config_mapping import from_mapping
from edgeplace.envs.lm_inference.config import LmInferenceConfig
from edgeplace.envs.lm_inference.drl.tiers import Tier


@dataclass(frozen=True)
class DrlTierConfig:
    """A tier env: ``tier`` acts through RLlib, the other tier acts inside the env (frozen)."""

    tier: str = Tier.UPPER.value
    """The tier in training, ``upper`` or ``lower``."""
    lm: LmInferenceConfig = field(default_factory=LmInferenceConfig)
    """Cluster, episode length, measured window and workload (the main env's config)."""

    def __post_init__(self) -> None:
        try:
            Tier(self.tier)
        except ValueError:
            raise ValueError(f"drl env_config: tier must be 'upper' or 'lower', got {self.tier!r}") from None
        if not isinstance(self.lm, LmInferenceConfig):
            object.__setattr__(self, "lm", LmInferenceConfig.from_env_config(self.lm))

    @classmethod
    def from_env_config(cls, env_config: Mapping[str, Any] | Self | None) -> Self:
        """From an RLlib ``env_config`` (unknown keys raise, naming them)."""
        if isinstance(env_config, cls):
            return env_config
        return from_mapping(cls, env_config, "drl env_config", nested={"lm": LmInferenceConfig})
