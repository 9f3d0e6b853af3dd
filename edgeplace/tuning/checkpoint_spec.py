"""How often trials checkpoint and which checkpoints Tune keeps."""

from __future__ import annotations

from dataclasses import dataclass

from ray import tune

#: TrainConfig fields that the ``checkpoint`` section owns (they may not appear under ``train``).
TRAIN_CHECKPOINT_FIELDS = ("checkpoint_every", "keep_checkpoints")


@dataclass(frozen=True)
class CheckpointSpec:
    """The ``checkpoint`` section of a sweep file. A trial always checkpoints its last iteration."""

    every: int = 1
    """Training iterations between checkpoints of a trial."""
    keep: int = 2
    """Checkpoints kept per trial: the best ones by the sweep's metric."""

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError(f"every: must be >= 1, got {self.every}")
        if self.keep < 1:
            raise ValueError(f"keep: must be >= 1, got {self.keep}")

    def train_overrides(self) -> dict[str, int]:
        """The TrainConfig fields this section sets."""
        return dict(zip(TRAIN_CHECKPOINT_FIELDS, (self.every, self.keep), strict=True))

    def tune_config(self, metric: str, mode: str) -> tune.CheckpointConfig:
        """Tune's checkpoint retention: keep the ``keep`` best by ``metric``."""
        return tune.CheckpointConfig(
            num_to_keep=self.keep, checkpoint_score_attribute=metric, checkpoint_score_order=mode
        )
