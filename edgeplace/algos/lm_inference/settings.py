"""The ``learned`` backend's options (``TrainConfig.algo_options``, ``--algo-option KEY=VALUE``, a sweep's
``algo_options.KEY``): the reward the slot-level agents learn from, the training stages and the modules
a run starts from (a checkpoint, or a rule controller they imitate first)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Self

from edgeplace.algos.baselines.lm_inference.hierarchies import HIERARCHIES
from edgeplace.config_mapping import from_mapping
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER


class RewardMode(StrEnum):
    """What the slot-level agents learn from (:mod:`edgeplace.algos.lm_inference.cohort_retimed`)."""

    WINDOWED = "windowed"
    """The env's reward: Eq. 20 over the last resolutions, with shaping."""
    COHORT_RETIMED = "cohort_retimed"
    """Each slot's decisions get their own cohort's Eq. 20 value."""


#: Stage -> the agents the reference's rules play in it (spec d, "Training": bottom-up).
STAGE_SCRIPTED: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"A": (PLANNER, SCHEDULER), "B": (PLANNER,), "C": ()}
)
FINAL_STAGE = "C"


def stage_dir_name(stage: str) -> str:
    """Where a staged run trains ``stage``, under its run directory."""
    return f"stage_{stage.lower()}"


FINAL_STAGE_DIR = stage_dir_name(FINAL_STAGE)
"""The last stage's run: the staged run's trained policy."""
#: Options every stage of a staged run shares (a sweep, which tunes the last stage, cannot search them).
STAGE_OPTIONS = ("reward_mode", "stages", "initial_modules", "imitate", "imitation_slots")
#: Options of the warm start before the first stage, which the stages' own runs do not take.
IMITATION_OPTIONS = ("imitate", "imitation_slots")


@dataclass(frozen=True)
class LearnedSettings:
    """Options of a ``learned`` run."""

    reward_mode: str = RewardMode.WINDOWED.value
    """``windowed`` (the env's reward) or ``cohort_retimed`` (each slot's own cohort's Eq. 20)."""
    stages: str = "ABC"
    """The stages to train, in order, ending with C: A trains the deployers (planner uniform,
    scheduler JSQ), B adds the scheduler, C the planner; each starts from the previous one's modules.
    ``C`` alone trains every agent jointly from scratch."""
    initial_modules: str | None = None
    """A checkpoint whose modules start this run (modules it lacks start fresh); staged training sets
    it to the previous stage's final checkpoint."""
    imitate: str | None = None
    """A rule controller (``ma-rule``, ...) whose decisions every module first learns to copy
    (:mod:`edgeplace.algos.lm_inference.imitation`); the first stage starts from those modules."""
    imitation_slots: int = 20_000
    """Slots of the controller's episodes to imitate (whole episodes, at least one)."""

    def __post_init__(self) -> None:
        try:
            RewardMode(self.reward_mode)
        except ValueError:
            known = [mode.value for mode in RewardMode]
            raise ValueError(
                f"learned.reward_mode: expected one of {known}, got {self.reward_mode!r}"
            ) from None
        stages = list(self.stages) if isinstance(self.stages, str) else None
        if (
            not stages
            or any(stage not in STAGE_SCRIPTED for stage in stages)
            or stages != sorted(set(stages))
            or stages[-1] != FINAL_STAGE
        ):
            raise ValueError(
                f"learned.stages: a string of stages out of {list(STAGE_SCRIPTED)} in order, ending with "
                f"{FINAL_STAGE} (e.g. 'ABC', 'BC', 'C'), got {self.stages!r}"
            )
        if self.imitate is not None and self.imitate not in HIERARCHIES:
            raise ValueError(
                f"learned.imitate: expected a rule controller out of {list(HIERARCHIES)}, "
                f"got {self.imitate!r}"
            )
        if self.imitate is not None and self.initial_modules is not None:
            raise ValueError(
                "learned.imitate: the imitated modules start the run, so initial_modules must be unset, "
                f"got {self.initial_modules!r}"
            )
        if isinstance(self.imitation_slots, bool) or not isinstance(self.imitation_slots, int):
            raise ValueError(f"learned.imitation_slots: expected an integer, got {self.imitation_slots!r}")
        if self.imitation_slots < 1:
            raise ValueError(f"learned.imitation_slots: expected >= 1, got {self.imitation_slots!r}")

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> Self:
        """From ``TrainConfig.algo_options`` (unknown keys raise, naming them)."""
        return from_mapping(cls, options, "learned algo_options")
