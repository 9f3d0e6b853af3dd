"""Per-trial resources of a sweep, expressed as RLlib's own resource settings.

Tune reserves each trial's placement group from RLlib's ``Algorithm.default_resource_request`` of
the trial's AlgorithmConfig, so what is written here is exactly what RLlib places: the main process
(which holds the local learner when ``num_learners`` is 0), the EnvRunner actors and the Learner
actors, each with its CPUs and (fractional) GPUs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig

#: TrainConfig fields that the ``resources`` section owns (they may not appear under ``train``).
TRAIN_RESOURCE_FIELDS = ("num_env_runners", "num_learners", "num_gpus_per_learner")


@dataclass(frozen=True)
class ResourcesSpec:
    """The ``resources`` section of a sweep file: what one trial reserves."""

    num_cpus_for_main_process: float = 1.0
    """CPUs of the trial's main process (the Algorithm; also the learner when num_learners is 0)."""
    num_env_runners: int = 0
    """Remote EnvRunner actors per trial; 0 samples in the trial's main process."""
    num_cpus_per_env_runner: float = 1.0
    """CPUs per EnvRunner actor."""
    num_learners: int = 0
    """Remote Learner actors per trial; 0 trains in the trial's main process."""
    num_cpus_per_learner: float | None = None
    """CPUs per learner; null lets RLlib decide (1 without a GPU, 0 with one)."""
    num_gpus_per_learner: float = 0.0
    """GPUs per learner, fractions allowed (0.5: two trials share one GPU); 0 trains on CPU."""

    def __post_init__(self) -> None:
        for name in ("num_cpus_for_main_process", "num_cpus_per_env_runner", "num_gpus_per_learner"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        for name in ("num_env_runners", "num_learners"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        if self.num_cpus_per_learner is not None and self.num_cpus_per_learner < 0:
            raise ValueError(f"num_cpus_per_learner: must be >= 0, got {self.num_cpus_per_learner}")
        if self.num_gpus_per_learner > 1 and not float(self.num_gpus_per_learner).is_integer():
            raise ValueError(
                f"num_gpus_per_learner: above 1 it must be a whole number, got {self.num_gpus_per_learner}"
            )

    def train_overrides(self) -> dict[str, Any]:
        """The TrainConfig fields this section sets."""
        return {name: getattr(self, name) for name in TRAIN_RESOURCE_FIELDS}

    def apply(self, config: AlgorithmConfig) -> AlgorithmConfig:
        """Set the CPU settings TrainConfig does not carry on an RLlib config (in place; returns it)."""
        config.resources(num_cpus_for_main_process=self.num_cpus_for_main_process)
        config.env_runners(num_cpus_per_env_runner=self.num_cpus_per_env_runner)
        if self.num_cpus_per_learner is not None:
            config.learners(num_cpus_per_learner=self.num_cpus_per_learner)
        return config
