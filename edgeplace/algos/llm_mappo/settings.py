"""LLM-MAPPO's learner settings (spec e, "Loss" and the hyperparameter table) and learner metric names.

Kept free of torch and Ray so that a scenario spec can name them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

from edgeplace.algos.learner_metrics import PPOMetric
from edgeplace.config_mapping import from_mapping

#: The algo_options the planner-memory preparation reads (a sweep cannot search them).
MEMORY_OPTIONS = ("memory_windows", "memory_epochs")
#: Where a run keeps its planner memory and its RLlib run.
MEMORY_DIR, RLLIB_DIR = "planner_memory", "rllib"
#: The learner's two optimizers (spec e: separate Adams for the actor and the critic).
ACTOR_OPTIMIZER, CRITIC_OPTIMIZER = "actor", "critic"


class LlmMappoMetric(StrEnum):
    """LLM-MAPPO's own learner results, beside PPO's (per module)."""

    PRIOR_KL = "llm_mappo/prior_kl"  # E[KL(pi_theta(place) || pi_LLM)], summed over slots
    KL_COEFF = "llm_mappo/kl_coeff"  # lambda_KL * exp(-t / tau)
    EPISODES = "llm_mappo/episodes"  # t: training episodes sampled so far


@dataclass(frozen=True)
class LlmMappoSettings:
    """Every LLM-MAPPO learner mechanism as a switch, with the spec's defaults."""

    prior_kl: bool = True
    """Add lambda_KL * exp(-t / tau) * E[KL(pi_theta(place | .) || pi_LLM)] to the loss (Eq. 34)."""
    kl_coeff: float = 0.1
    """lambda_KL."""
    kl_tau_episodes: float = 150.0
    """tau, in training episodes."""
    episode_steps: int = 60
    """Env steps per episode (the env's horizon): t = env steps sampled so far / episode_steps."""
    entropy_start: float = 0.01
    entropy_end: float = 0.001
    """The entropy coefficient decays linearly from start to end over the run's budget."""
    critic_lr: float = 1e-3
    """Learning rate of the critic's own Adam (the actor's is the run's ``lr``); decays with it."""
    memory_windows: int | None = None
    """Bootstrap windows of the ``memory`` planner's preparation (None: the preset's 2 k / 20 k)."""
    memory_epochs: int = 20
    """Scorer training epochs of that preparation."""

    def __post_init__(self) -> None:
        for name in ("kl_coeff", "entropy_start", "entropy_end"):
            if getattr(self, name) < 0:
                raise ValueError(f"llm_mappo.{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("kl_tau_episodes", "critic_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"llm_mappo.{name} must be > 0, got {getattr(self, name)!r}")
        if self.memory_windows is not None and self.memory_windows < 2:
            raise ValueError(f"llm_mappo.memory_windows must be >= 2, got {self.memory_windows!r}")
        if self.memory_epochs < 0:
            raise ValueError(f"llm_mappo.memory_epochs must be >= 0, got {self.memory_epochs!r}")
        if self.episode_steps < 1:
            raise ValueError(f"llm_mappo.episode_steps must be >= 1, got {self.episode_steps!r}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> Self:
        """Build from a plain dict, naming unknown keys."""
        return from_mapping(cls, values, "llm_mappo settings")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def kl_weight(self, episodes: float) -> float:
        """lambda_KL * exp(-t / tau) at t = ``episodes`` (0 with ``prior_kl`` off)."""
        return self.kl_coeff * math.exp(-episodes / self.kl_tau_episodes) if self.prior_kl else 0.0


#: The learner results ``metrics.csv`` copies per module: PPO's losses, the entropy coefficient, both
#: optimizers' learning rates (RLlib logs ``<optimizer>_learning_rate``) and LLM-MAPPO's own.
LLM_MAPPO_LEARNER_METRICS = (
    PPOMetric.POLICY_LOSS,
    PPOMetric.VF_LOSS,
    PPOMetric.ENTROPY,
    "curr_entropy_coeff",
    f"{ACTOR_OPTIMIZER}_learning_rate",
    f"{CRITIC_OPTIMIZER}_learning_rate",
    *LlmMappoMetric,
)
