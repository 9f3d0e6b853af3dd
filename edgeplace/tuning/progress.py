"""Trial events of a running sweep, forwarded from Tune's callback hooks to a plain listener."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ray import tune
from ray.tune.result import TRAINING_ITERATION
from ray.tune.utils import flatten_dict


class TrialEventKind(StrEnum):
    """What happened to a trial."""

    STARTED = "started"
    RESULT = "result"
    CHECKPOINTED = "checkpointed"  # Tune registered the checkpoint of the latest result
    COMPLETED = "completed"
    ERRORED = "errored"


@dataclass(frozen=True)
class TrialEvent:
    """One trial event; ``value`` is the sweep metric of the trial's latest result (None before any)."""

    trial_id: str
    """Tune's trial id."""
    kind: TrialEventKind
    """What happened."""
    iteration: int
    """Training iterations the trial has reported."""
    metric: str
    """Name of the sweep metric."""
    value: float | None
    """The metric in the trial's latest result."""

    def describe(self) -> str:
        """One line for a console."""
        value = "" if self.value is None or math.isnan(self.value) else f"  {self.metric} {self.value:.4g}"
        return f"{self.trial_id} {self.kind} (iter {self.iteration}){value}"


Listener = Callable[[TrialEvent], None]

#: The listener of the sweep running in this thread. Tune pickles its callbacks into the experiment
#: state, so the relay holds no listener itself: a resumed sweep reports to whoever resumed it.
_LISTENER: ContextVar[Listener | None] = ContextVar("edgeplace_sweep_listener", default=None)


@contextmanager
def listening(listener: Listener | None) -> Iterator[None]:
    """Route the trial events of sweeps run inside the block to ``listener``."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


class ProgressRelay(tune.Callback):
    """A Tune callback that turns trial hooks into :class:`TrialEvent` for the current listener."""

    def __init__(self, metric: str) -> None:
        self.metric = metric

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._emit(trial, TrialEventKind.STARTED, trial.last_result)

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self._emit(trial, TrialEventKind.RESULT, result)

    def on_trial_save(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._emit(trial, TrialEventKind.CHECKPOINTED, trial.last_result)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._emit(trial, TrialEventKind.COMPLETED, trial.last_result)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._emit(trial, TrialEventKind.ERRORED, trial.last_result)

    def _emit(self, trial: Any, kind: TrialEventKind, result: dict | None) -> None:
        listener = _LISTENER.get()
        if listener is None:
            return
        flat = flatten_dict(result or {})
        value = flat.get(self.metric)
        listener(
            TrialEvent(
                trial_id=trial.trial_id,
                kind=kind,
                iteration=int(flat.get(TRAINING_ITERATION, 0)),
                metric=self.metric,
                value=None if value is None else float(value),
            )
        )
