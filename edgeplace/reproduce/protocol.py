"""The outline every paper's reproduction shares: pick a budget by name, train every run (resuming
finished and interrupted ones), evaluate, and write the report. A paper module declares its budgets, its
training steps, its evaluation and its report as plain functions of a :class:`Protocol`; the steps are in
:mod:`edgeplace.reproduce.steps`, the report's layout in :mod:`edgeplace.reproduce.report`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from rich.console import Console

from edgeplace.reproduce.report import Report, write_report
from edgeplace.reproduce.steps import TrainedRun, TrainingStep, check_runs, train_in_order
from edgeplace.runtime import ensure_ray


@dataclass(frozen=True, kw_only=True)
class Budget:
    """How much of a paper's protocol to run; each paper adds its own sizes."""

    name: str
    """What ``--budget`` calls it ("quick", "paper")."""
    training_seeds: tuple[int, ...]
    """The seeds of the repeated training runs; runs made once use the first."""

    def __post_init__(self) -> None:
        if not self.training_seeds:
            raise ValueError(f"budget {self.name}: training_seeds must not be empty")

    @property
    def first_seed(self) -> int:
        """The training seed of the runs made once."""
        return self.training_seeds[0]


B = TypeVar("B", bound=Budget)


def by_name(*budgets: B) -> dict[str, B]:
    """A paper's budget table, keyed by each budget's name."""
    return {budget.name: budget for budget in budgets}


def lookup_budget(budgets: Mapping[str, B], budget: str | B) -> B:
    """``budget`` itself, or the budget of that name; the error lists the known budgets."""
    if not isinstance(budget, str):
        return budget
    if budget not in budgets:
        raise KeyError(f"unknown budget {budget!r}; known: {sorted(budgets)}")
    return budgets[budget]


@dataclass(frozen=True)
class Results(Generic[B]):
    """What a report is built from: the budget, the finished runs by name, and (in each paper's
    subclass) the evaluation frames."""

    budget: B
    runs: Mapping[str, TrainedRun]


R = TypeVar("R", bound=Results)
#: Runs training steps into ``out``: (steps, out, console, num_gpus_per_learner) -> the runs by name.
Trainer = Callable[[Sequence[TrainingStep], Path, Console, float], dict[str, TrainedRun]]


@dataclass(frozen=True)
class Protocol(Generic[B, R]):
    """One paper's protocol: its budgets and its steps as plain functions; :meth:`run` is the outline."""

    budgets: Mapping[str, B]
    training_steps: Callable[..., Sequence[TrainingStep]]
    """(budget, **TrainConfig fields of every run) -> every training run, in the order they run."""
    evaluate: Callable[[B, Mapping[str, TrainedRun], Path, Console], R]
    """(budget, runs, out, console) -> the results of every evaluation, cached under ``out``."""
    report: Callable[[R, Path], Report]
    """(results, out) -> the report's contents; its figures are drawn into ``out``."""
    train: Trainer = train_in_order
    """Runs the training steps; one after the other unless a paper says otherwise."""

    def run(
        self,
        out: Path,
        budget: str | B,
        *,
        address: str | None,
        num_gpus_per_learner: float,
        console: Console | None,
    ) -> Path:
        """Run the protocol at ``budget`` (a name of :attr:`budgets`, or a Budget) into ``out``
        (resumable: finished runs and evaluations made from the same inputs are reused, stale
        evaluations recomputed); returns the report path. Raises StaleRunError, before anything trains,
        when ``out`` holds a run of another training config (see :mod:`edgeplace.reproduce.steps`)."""
        chosen = lookup_budget(self.budgets, budget)
        steps = self.training_steps(chosen, num_gpus_per_learner=num_gpus_per_learner)
        console = console or Console()
        out = Path(out).resolve()  # RLlib's checkpoint writer needs an absolute path
        out.mkdir(parents=True, exist_ok=True)
        check_runs(steps, out)
        ensure_ray(address)
        results = self.evaluate(chosen, self.train(steps, out, console, num_gpus_per_learner), out, console)
        return write_report(out, self.report(results, out), results)
