"""The trial scheduler of a sweep: FIFO, ASHA (early stopping) or PBT (population-based training)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ray.tune.result import TRAINING_ITERATION
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, PopulationBasedTraining, TrialScheduler

from edgeplace.tuning.search_space import Sampler, SearchDimension, nest


class SchedulerKind(StrEnum):
    """Which Tune scheduler runs the trials."""

    FIFO = "fifo"  # every trial runs to its stop criteria
    ASHA = "asha"  # asynchronous successive halving: stop weak trials early
    PBT = "pbt"  # population-based training: weak trials copy strong ones and mutate


@dataclass(frozen=True)
class SchedulerSpec:
    """The ``scheduler`` section of a sweep file. Times count training iterations."""

    type: SchedulerKind = SchedulerKind.FIFO
    """fifo | asha | pbt."""
    max_t: int = 100
    """ASHA: iterations after which a trial is stopped in any case."""
    grace_period: int = 1
    """ASHA: iterations every trial runs before it can be stopped."""
    reduction_factor: float = 3.0
    """ASHA: 1/reduction_factor of the trials advance to the next rung."""
    perturbation_interval: int = 4
    """PBT: iterations between exploit/explore steps (a multiple of ``checkpoint.every``)."""
    quantile_fraction: float = 0.25
    """PBT: the bottom fraction copies the top fraction."""
    resample_probability: float = 0.25
    """PBT: probability of resampling a mutated value instead of perturbing it."""
    mutations: tuple[SearchDimension, ...] = field(default_factory=tuple)
    """PBT: the hyperparameters it mutates (same syntax as ``search_space``, no grids)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", SchedulerKind(self.type))
        for name in ("max_t", "grace_period", "perturbation_interval"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1, got {getattr(self, name)}")
        if self.grace_period > self.max_t:
            raise ValueError(f"grace_period: {self.grace_period} exceeds max_t {self.max_t}")
        if self.reduction_factor <= 1:
            raise ValueError(f"reduction_factor: must be > 1, got {self.reduction_factor}")
        for name in ("quantile_fraction", "resample_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}: must be in [0, 1], got {getattr(self, name)}")
        if self.mutations and self.type is not SchedulerKind.PBT:
            raise ValueError(f"mutations: only the pbt scheduler mutates, not {self.type}")
        if self.type is SchedulerKind.PBT and not self.mutations:
            raise ValueError("mutations: pbt needs at least one hyperparameter to mutate")
        for dimension in self.mutations:
            if dimension.sampler is Sampler.GRID:
                raise ValueError(f"mutations.{dimension.key}: PBT cannot mutate over a grid; use choice")

    def build(self, train_key: str) -> TrialScheduler:
        """The Tune scheduler; mutations are nested under ``train_key`` like the trial config.
        Metric and mode are set on the TuneConfig, not here."""
        if self.type is SchedulerKind.ASHA:
            return ASHAScheduler(
                time_attr=TRAINING_ITERATION,
                max_t=self.max_t,
                grace_period=self.grace_period,
                reduction_factor=self.reduction_factor,
            )
        if self.type is SchedulerKind.PBT:
            return PopulationBasedTraining(
                time_attr=TRAINING_ITERATION,
                perturbation_interval=self.perturbation_interval,
                quantile_fraction=self.quantile_fraction,
                resample_probability=self.resample_probability,
                hyperparam_mutations={train_key: self.mutation_space()},
            )
        return FIFOScheduler()

    def mutation_space(self) -> dict[str, Any]:
        """PBT's mutations as Tune samplers, nested like TrainConfig."""
        return nest(self.mutations, {dimension.key: dimension.to_tune() for dimension in self.mutations})
