"""The training configuration of every PPO-family run, and its mapping onto RLlib's PPOConfig."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Self

from edgeplace.config_mapping import from_mapping
from edgeplace.envs.genai_chain import SCENARIO_ID as GENAI_CHAIN


class ModuleSharing(StrEnum):
    """How agents map to RLModules."""

    SHARED = "shared"  # one module for every agent (the stage id is in the observation)
    PER_AGENT = "per-agent"  # one module per agent id


SHARED_MODULE_ID = "shared"
#: The fields only RLlib's PPO family reads; an algorithm that does not honour them (HISPER, HAPPO)
#: rejects a run that sets any of them (see :meth:`TrainConfig.changed_fields`).
PPO_FIELDS = (
    "train_batch_size",
    "minibatch_size",
    "num_epochs",
    "lr",
    "lr_decay",
    "gamma",
    "gae_lambda",
    "entropy_coeff",
    "vf_loss_coeff",
    "clip_param",
    "grad_clip",
    "num_envs_per_env_runner",
)


@dataclass(frozen=True)
class TrainConfig:
    """One training run: scenario, algorithm, budget and PPO hyperparameters (spec e9 defaults)."""

    scenario: str = GENAI_CHAIN
    """Scenario id (``edgeplace scenarios`` lists them); the quickstart's by default."""
    algo: str = "mappo"
    """Algorithm id."""
    env_config: Mapping[str, Any] = field(default_factory=dict)
    """The scenario's env config (topology URI, split, padding, ...)."""
    timesteps: int = 100_000
    """Budget in agent decisions (one agent's action is one timestep)."""
    seed: int = 0
    """Seed of RLlib, the env runners and the envs."""
    module_sharing: ModuleSharing = ModuleSharing.SHARED
    """One shared module, or one module per agent."""
    model: Mapping[str, Any] = field(default_factory=dict)
    """``model_config`` of the RLModule (see PlacementModuleConfig); overrides the algorithm's preset."""
    algo_options: Mapping[str, Any] = field(default_factory=dict)
    """Algorithm-specific settings (VAMAPPO: the switches of VAMAPPOSettings), over the preset's."""
    num_env_runners: int = 0
    """Remote EnvRunner actors; 0 samples in the driver (fastest on 2 cores)."""
    num_envs_per_env_runner: int = 64
    """Vectorised env copies per runner (~64 is the measured plateau, 20x one env)."""
    train_batch_size: int = 5120
    """Decisions per training iteration (per learner)."""
    minibatch_size: int = 320
    num_epochs: int = 10
    lr: float = 3e-4
    lr_decay: bool = True
    """Decay the learning rate linearly to 0 over ``timesteps``."""
    gamma: float = 0.99
    gae_lambda: float = 0.95
    entropy_coeff: float = 0.01
    vf_loss_coeff: float = 0.5
    clip_param: float = 0.2
    grad_clip: float = 0.5
    num_learners: int = 0
    """Remote learner actors; 0 trains in the driver process."""
    num_gpus_per_learner: float = 0.0
    """GPUs per learner (fractions allowed); RLlib places the learner's tensors."""
    checkpoint_every: int = 5
    """Iterations between checkpoints (the last iteration is always checkpointed)."""
    keep_checkpoints: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "module_sharing", ModuleSharing(self.module_sharing))
        for name in (
            "timesteps",
            "train_batch_size",
            "minibatch_size",
            "num_epochs",
            "num_envs_per_env_runner",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.minibatch_size > self.train_batch_size:
            raise ValueError(
                f"minibatch_size ({self.minibatch_size}) exceeds train_batch_size ({self.train_batch_size})"
            )
        if self.checkpoint_every < 1 or self.keep_checkpoints < 1:
            raise ValueError("checkpoint_every and keep_checkpoints must be >= 1")

    @property
    def iterations(self) -> int:
        """Training iterations needed for the budget."""
        return max(1, -(-self.timesteps // self.train_batch_size))

    def changed_fields(self, names: tuple[str, ...]) -> list[str]:
        """The fields among ``names`` whose value is not TrainConfig's default, in ``names`` order."""
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        return [name for name in names if getattr(self, name) != defaults[name]]

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["env_config"], out["model"] = dict(self.env_config), dict(self.model)
        out["algo_options"] = dict(self.algo_options)
        out["module_sharing"] = str(self.module_sharing)
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        return from_mapping(cls, values, "train config")

    def replace(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)
