"""AgentVNE fine-tuning settings (``TrainConfig.algo_options``) and the spec-f PPO defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from edgeplace.algos.train_config import TrainConfig
from edgeplace.config_mapping import from_mapping
from edgeplace.envs.agent_vne import SCENARIO_ID
from edgeplace.envs.agent_vne.decoder import DEFAULT_RESTARTS

#: Spec f PPO table: 4 episodes x 100 arrivals per update, 5 epochs, minibatch 64, clip 0.2, gamma
#: 0.99, GAE lambda 0.95, policy lr 3e-4, entropy 0.001, grad clip 1.0; 1000 episodes in all.
AGENTVNE_TRAIN_DEFAULTS: dict[str, Any] = {
    "timesteps": 1000 * 100,
    "train_batch_size": 4 * 100,
    "minibatch_size": 64,
    "num_epochs": 5,
    "num_envs_per_env_runner": 4,
    "lr": 3e-4,
    "lr_decay": False,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "entropy_coeff": 0.001,
    "vf_loss_coeff": 1.0,
    "clip_param": 0.2,
    "grad_clip": 1.0,
}

#: Where ``edgeplace train agent-vne --algo agentvne`` puts each stage inside its run directory.
PRETRAIN_DIR, FINETUNE_DIR = "pretrain", "finetune"

#: :class:`AgentVNESettings` fields that only the pre-training stage reads.
PRETRAIN_OPTIONS = ("pretrain_episodes", "pretrain_arrivals", "pretrain_epochs")

#: lambda ~ U{0.1, ..., 0.6} (spec f).
DEFAULT_RATES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


def agentvne_train_config(**overrides: Any) -> TrainConfig:
    """An agent-vne ``agentvne`` TrainConfig with the spec-f PPO defaults, under ``overrides``."""
    return TrainConfig(
        **{"scenario": SCENARIO_ID, "algo": "agentvne", **AGENTVNE_TRAIN_DEFAULTS, **overrides}
    )


@dataclass(frozen=True)
class AgentVNESettings:
    """AgentVNE-specific fine-tuning settings (``TrainConfig.algo_options``)."""

    pretrained: str | None = None
    """Pre-training checkpoint (``best.pt`` or its directory) loaded into the policy; None: random."""
    value_lr: float = 1e-3
    """Learning rate of the value network (the policy uses ``TrainConfig.lr``)."""
    value_warmup_updates: int = 5
    """Updates (training iterations) at the start in which only the value network learns."""
    arrival_rates: tuple[float, ...] | None = DEFAULT_RATES
    """lambda of each training episode, drawn uniformly from these (None: the env config's rate)."""
    restarts: int = DEFAULT_RESTARTS
    """R of the greedy-BFS decoder."""
    pretrain_episodes: int = 100
    pretrain_arrivals: int = 50
    """Teacher dataset of the pre-training stage: episodes x arrivals samples (spec f: 100 x 50)."""
    pretrain_epochs: int = 100
    """Epochs of the supervised pre-training (spec f: 100)."""

    def __post_init__(self) -> None:
        if self.arrival_rates is not None:
            object.__setattr__(self, "arrival_rates", tuple(float(r) for r in self.arrival_rates))
            if not self.arrival_rates or min(self.arrival_rates) <= 0:
                raise ValueError(f"agentvne: arrival_rates must be positive rates, got {self.arrival_rates}")
        if min(self.pretrain_episodes, self.pretrain_arrivals, self.pretrain_epochs) < 1:
            raise ValueError(
                "agentvne: pretrain_episodes, pretrain_arrivals and pretrain_epochs must be >= 1"
            )
        if self.value_lr <= 0 or self.value_warmup_updates < 0 or self.restarts < 0:
            raise ValueError(
                f"agentvne: need value_lr > 0, value_warmup_updates >= 0, restarts >= 0, got "
                f"{self.value_lr}, {self.value_warmup_updates}, {self.restarts}"
            )

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> Self:
        """Build from ``algo_options``, naming unknown keys."""
        return from_mapping(cls, options, "agentvne algo_options")
