"""Run (or resume) a sweep with Ray Tune and collect what it found."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from ray import tune
from ray.tune.experiment import Trial
from ray.tune.result import TRIAL_ID
from ray.tune.search import BasicVariantGenerator
from ray.tune.utils import flatten_dict

from edgeplace.algos.checkpoints import METADATA_FILE, CheckpointError
from edgeplace.algos.registry import algorithm_preparation
from edgeplace.algos.train_config import TrainConfig
from edgeplace.runtime import ensure_ray
from edgeplace.tuning.loggers import logger_callbacks
from edgeplace.tuning.progress import Listener, ProgressRelay, listening
from edgeplace.tuning.spec import LoggerName, Mode, SweepSpec
from edgeplace.tuning.trainable import tunable
from edgeplace.tuning.trial_config import TRAIN_KEY, param_space

#: Tune's verbosity: its own status table when nobody listens to trial events, else quiet.
VERBOSE_REPORTING, QUIET_REPORTING = 1, 0


class ExperimentExistsError(ValueError):
    """A new sweep would reuse an existing experiment directory."""


@dataclass(frozen=True, eq=False)
class SweepResult:
    """What a sweep found. ``results`` has one row per trial (its last result; Tune's flattened keys,
    sampled values as ``config/train/...``)."""

    experiment_path: str
    """The experiment directory (restore it with ``--resume``)."""
    metric: str
    """The metric trials were ranked by."""
    mode: Mode
    """max | min."""
    searched: tuple[str, ...]
    """The searched keys, as written in the sweep file."""
    results: pd.DataFrame
    """One row per trial."""
    num_trials: int
    """Trials of the experiment."""
    num_terminated: int
    """Trials that ran to their end (budget, stop criteria or the scheduler)."""
    num_errors: int
    """Trials that failed."""
    best_trial_id: str | None
    """The trial whose last result is best by ``metric``, or None if none reported it."""
    best_metric: float | None
    """Its last value of ``metric``."""
    best_config: Mapping[str, Any] | None
    """Its TrainConfig, as a dict."""
    best_checkpoint: tune.Checkpoint | None
    """Its best kept checkpoint by ``metric`` (carries ``edgeplace.json``)."""

    @property
    def interrupted(self) -> bool:
        """Whether trials are left unfinished (the sweep was stopped; resume it)."""
        return self.num_terminated + self.num_errors < self.num_trials


def run_sweep(
    spec: SweepSpec,
    *,
    address: str | None = None,
    resume: bool = False,
    on_progress: Listener | None = None,
) -> SweepResult:
    """Run ``spec`` on Ray (``address``, ``RAY_ADDRESS`` or a local Ray); with ``resume``, continue the
    interrupted experiment ``spec.experiment_path`` (unfinished and errored trials resume from their
    latest checkpoints; finished ones are kept). ``on_progress`` receives every trial event."""
    path = spec.experiment_path
    exists = tune.Tuner.can_restore(path)
    if resume and not exists:
        raise FileNotFoundError(f"--resume: no experiment to resume at {path}")
    if exists and not resume:
        raise ExperimentExistsError(f"experiment {path} exists: resume it with --resume or change `name`")
    if resume:
        ensure_ray(address)
        tuner = tune.Tuner.restore(path, tunable(), resume_unfinished=True, resume_errored=True)
    else:
        train = prepared_train_config(spec)
        ensure_ray(address)
        tuner = tune.Tuner(
            tunable(),
            param_space=param_space(train, spec.search_space, spec.resources),
            tune_config=tune.TuneConfig(
                metric=spec.metric,
                mode=str(spec.mode),
                # The generator enforces the trial limit (TuneConfig's is ignored with a generator).
                search_alg=BasicVariantGenerator(
                    max_concurrent=spec.max_concurrent_trials or 0, random_state=spec.search_seed
                ),
                scheduler=spec.scheduler.build(TRAIN_KEY),
                num_samples=spec.num_samples,
                reuse_actors=True,  # a new trial takes over a finished one's actor: no ~5 s start-up
            ),
            run_config=tune.RunConfig(
                name=spec.name,
                storage_path=spec.storage_root,
                stop=dict(spec.stop),
                checkpoint_config=spec.checkpoint.tune_config(spec.metric, str(spec.mode)),
                callbacks=[
                    *logger_callbacks(spec.wandb_project if LoggerName.WANDB in spec.loggers else None),
                    ProgressRelay(spec.metric),
                ],
                verbose=VERBOSE_REPORTING if on_progress is None else QUIET_REPORTING,
            ),
        )
    with listening(on_progress):
        grid = tuner.fit()
    return _collect(spec, grid)


def prepared_train_config(spec: SweepSpec) -> TrainConfig:
    """The fixed TrainConfig of the trials: ``spec.train`` after the algorithm's stages before its RLlib
    run (AgentVNE's pre-training), run once into the experiment directory; they resume or skip what an
    earlier attempt of the sweep finished there. Algorithms without such stages: ``spec.train``."""
    preparation = algorithm_preparation(spec.train.scenario, spec.train.algo)
    if preparation is None:
        return spec.train
    return preparation.run(spec.train, Path(spec.experiment_path))


def export_best_checkpoint(result: SweepResult, dest: str | Path) -> Path:
    """Copy the best checkpoint (local or remote storage) into the local directory ``dest``."""
    if result.best_checkpoint is None:
        raise CheckpointError(f"{result.experiment_path}: no trial saved a checkpoint")
    path = Path(result.best_checkpoint.to_directory(str(dest)))
    if not (path / METADATA_FILE).is_file():
        raise CheckpointError(f"{path}: the best checkpoint has no {METADATA_FILE}")
    return path


def _collect(spec: SweepSpec, grid: tune.ResultGrid) -> SweepResult:
    best = _best_result(grid, spec)
    # Trial statuses as saved in the experiment state: after an interruption Tune's in-memory trials
    # read TERMINATED, while the saved state keeps the unfinished ones for --resume.
    statuses = [trial.status for trial in tune.ExperimentAnalysis(grid.experiment_path).trials]
    return SweepResult(
        experiment_path=grid.experiment_path,
        metric=spec.metric,
        mode=spec.mode,
        searched=tuple(dimension.key for dimension in spec.search_space),
        results=grid.get_dataframe(),
        num_trials=len(statuses),
        num_terminated=statuses.count(Trial.TERMINATED),
        num_errors=statuses.count(Trial.ERROR),
        best_trial_id=None if best is None else best.metrics[TRIAL_ID],
        best_metric=None if best is None else float(flatten_dict(best.metrics)[spec.metric]),
        best_config=None if best is None else best.config[TRAIN_KEY],
        best_checkpoint=None if best is None else best.get_best_checkpoint(spec.metric, str(spec.mode)),
    )


def _best_result(grid: tune.ResultGrid, spec: SweepSpec) -> tune.Result | None:
    """The trial with the best last result, or None when no trial reported the metric."""
    try:
        return grid.get_best_result(spec.metric, str(spec.mode), scope="last")
    except RuntimeError:
        return None
