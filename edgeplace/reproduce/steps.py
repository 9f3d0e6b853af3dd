"""Resumable steps of a reproduction: training runs and evaluations are skipped when their outputs
already exist under the reproduction's ``out`` directory and were made from the same inputs, so an
interrupted ``edgeplace reproduce`` continues where it stopped, and a changed budget, config or
checkpoint is never served from an old output. Every call into the algorithm registry and the
baselines is made here.

What an output was made from is recorded beside it (:mod:`edgeplace.reproduce.cache`):

- an evaluation ``eval/<name>/episodes.csv`` (or another cached table) in ``episodes.digest.json``: the
  budget, the env config, seeds and episodes, what its policies are built from (each checkpoint's run,
  directory and metadata hash; baseline names and seed) and the edgeplace version. On a mismatch the
  table is evaluated again and overwritten, and the console says why.
- a training run ``runs/<name>`` in ``run.digest.json``: its TrainConfig except :data:`RESUMABLE_FIELDS`.
  A run is never continued under another config, nor reused when it was trained for more timesteps than
  asked: :class:`StaleRunError` names the run and the differing fields, before anything trains (training
  is too costly to discard silently; use another ``--out``, or delete the run directory to retrain it).
  A run written before run records existed is judged by the train config its checkpoint records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from rich.console import Console

from edgeplace.algos.baselines import make_baseline
from edgeplace.algos.checkpoints import METADATA_FILE, latest_checkpoint, read_metadata
from edgeplace.algos.registry import rllib_run_dir, run_training
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import METRICS_FILE
from edgeplace.atomic_io import write_text_atomic
from edgeplace.evaluation.runner import InfoColumns, evaluate_policies
from edgeplace.policy import Policy
from edgeplace.progress import episode_progress, training_progress
from edgeplace.reproduce.cache import Provenance, digest_path, file_sha256, package_version
from edgeplace.torch_threads import torch_threads

if TYPE_CHECKING:
    from edgeplace.reproduce.protocol import Budget

RUNS_DIR, EVAL_DIR = "runs", "eval"
EPISODES_FILE = "episodes.csv"
RUN_DIGEST_FILE = "run.digest.json"
#: TrainConfig fields a run may change and still be continued: its length (a longer budget resumes a
#: shorter run), how often it is checkpointed, and its GPU share.
RESUMABLE_FIELDS = ("timesteps", "checkpoint_every", "keep_checkpoints", "num_gpus_per_learner")


class StaleRunError(ValueError):
    """A run directory holds a run of another training config (the message names the fields)."""


@dataclass(frozen=True)
class TrainedRun:
    """A finished training run: its latest checkpoint and per-iteration metrics."""

    name: str
    checkpoint: Path
    metrics: pd.DataFrame

    def source(self) -> dict[str, str]:
        """The checkpoint as an evaluation's digest names it: the run, the checkpoint directory and
        the SHA-256 of its edgeplace metadata (train config, iteration, timesteps, wall time)."""
        sha = file_sha256(self.checkpoint / METADATA_FILE)
        return {"run": self.name, "checkpoint": self.checkpoint.name, "metadata_sha256": sha}


@dataclass(frozen=True)
class TrainingStep:
    """One training run of a protocol, named by its output directory ``runs/<name>``."""

    name: str
    config: TrainConfig
    label: str = ""
    """What the run is, for progress and report lines."""


@dataclass(frozen=True)
class Policies:
    """The policies of an evaluation, built only when it runs, and what they are built from."""

    build: Callable[[], Sequence[Policy]]
    sources: Mapping[str, Any]
    """What ``build`` reads (checkpoints by :meth:`TrainedRun.source`, baseline names and seeds), in
    plain JSON types: part of the evaluation's digest."""


@dataclass(frozen=True)
class EvaluationStep:
    """One evaluation of a protocol, cached as ``eval/<name>/episodes.csv``: ``policies``, ``episodes``
    episodes of each seed on envs built from ``env_config``."""

    name: str
    env_config: Mapping[str, Any]
    policies: Policies
    seeds: Sequence[int]
    episodes: int
    tags: Mapping[str, Any] = field(default_factory=dict)
    """Columns set on every row of the result (e.g. the swept value); not part of the cached file."""
    info_columns: InfoColumns | None = None
    """Further per-episode columns read from the final infos (a module-level function: its qualified
    name is part of the cached file's digest)."""


def run_provenance(name: str, config: Mapping[str, Any]) -> Provenance:
    """What a run directory must have been trained with to continue run ``name`` of ``config`` (a
    TrainConfig's ``to_dict()``)."""
    kept = {key: value for key, value in config.items() if key not in RESUMABLE_FIELDS}
    return Provenance(RUNS_DIR, name, {"train_config": kept})


def _adopt_unrecorded_run(name: str, record: Path, checkpoint: Path | None) -> None:
    """A run written before run records existed: record the config its latest checkpoint's metadata
    holds, so it is compared (and resumed when it matches) instead of refused."""
    if checkpoint is not None and not record.exists():
        run_provenance(name, read_metadata(checkpoint)["train_config"]).save(record)


def stale_run(step: TrainingStep, out: Path) -> str | None:
    """Why ``out/runs/<name>`` cannot give ``step``'s run (None when it can: it holds nothing yet, or a
    run of the same config with at most ``step.config.timesteps`` timesteps)."""
    run_dir = out / RUNS_DIR / step.name
    checkpoint = latest_checkpoint(rllib_run_dir(step.config, run_dir))
    record = run_dir / RUN_DIGEST_FILE
    if checkpoint is None and not record.exists():
        return None
    _adopt_unrecorded_run(step.name, record, checkpoint)
    reason = run_provenance(step.name, step.config.to_dict()).stale_reason(record)
    trained_for = read_metadata(checkpoint)["train_config"]["timesteps"] if checkpoint else 0
    if reason is None and trained_for > step.config.timesteps:
        reason = f"trained for {trained_for:,} timesteps, {step.config.timesteps:,} asked"
    if reason is None:
        return None
    return (
        f"{run_dir} holds another run ({reason}): use another --out, or delete {run_dir} to train "
        f"{step.name} afresh"
    )


def check_runs(steps: Sequence[TrainingStep], out: Path) -> None:
    """Raise :class:`StaleRunError` naming every run of ``steps`` that ``out`` holds with another
    config (see :func:`stale_run`), before any of them trains."""
    reasons = [reason for step in steps if (reason := stale_run(step, out)) is not None]
    if reasons:
        raise StaleRunError("\n".join(reasons))


def ensure_trained(step: TrainingStep, out: Path) -> TrainedRun:
    """Train ``step`` unless ``out/runs/<name>`` already holds a checkpoint at its budget; a shorter
    checkpoint of the same config is resumed. Algorithms with stages (AgentVNE) resume each stage.
    Raises :class:`StaleRunError` when the directory holds a run of another config."""
    check_runs([step], out)
    run_dir = out / RUNS_DIR / step.name
    run_provenance(step.name, step.config.to_dict()).save(run_dir / RUN_DIGEST_FILE)
    rllib_dir = rllib_run_dir(step.config, run_dir)
    checkpoint = latest_checkpoint(rllib_dir)
    done = checkpoint is not None and read_metadata(checkpoint)["timesteps"] >= step.config.timesteps
    if not done:
        start = read_metadata(checkpoint)["timesteps"] if checkpoint is not None else 0
        with training_progress(step.config.timesteps, start=start) as on_iteration:
            run_training(step.config, run_dir, resume=checkpoint is not None, on_iteration=on_iteration)
        checkpoint = latest_checkpoint(rllib_dir)
    assert checkpoint is not None
    return TrainedRun(step.name, checkpoint, pd.read_csv(rllib_dir / METRICS_FILE))


def train_in_order(
    steps: Sequence[TrainingStep], out: Path, console: Console, num_gpus_per_learner: float
) -> dict[str, TrainedRun]:
    """Every run of ``steps``, one after the other in this process (the GPU share is in each config)."""
    runs: dict[str, TrainedRun] = {}
    for index, step in enumerate(steps, 1):
        console.print(f"[bold]training {index}/{len(steps)}[/] {step.name}: {step.label}")
        runs[step.name] = ensure_trained(step, out)
    return runs


def _train_task(step: TrainingStep, out: Path) -> TrainedRun:
    """One resumable training run inside a Ray task of one CPU (torch uses one thread)."""
    with torch_threads(1):
        return ensure_trained(step, out)  # its progress bar goes to the worker's log


def train_as_ray_tasks(
    steps: Sequence[TrainingStep], out: Path, console: Console, num_gpus_per_learner: float
) -> dict[str, TrainedRun]:
    """Every run of ``steps`` as a Ray task of one CPU (and ``num_gpus_per_learner`` GPUs), so Ray
    runs as many at once as the machine or cluster has CPUs (two on a 2-core machine); finished runs
    return at once from their checkpoints. Returns the runs by name, in ``steps`` order."""
    import ray

    task = ray.remote(num_cpus=1, num_gpus=num_gpus_per_learner, max_retries=0)(_train_task)
    pending = {task.remote(step, out): step for step in steps}
    runs: dict[str, TrainedRun] = {}
    console.print(
        f"[bold]training[/] {len(steps)} runs, {int(ray.cluster_resources().get('CPU', 1))} at once"
    )
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        step = pending.pop(done[0])
        run = ray.get(done[0])
        runs[step.name] = run
        wall = float(run.metrics["wall_s"].iloc[-1]) if len(run.metrics) else 0.0
        console.print(f"  {len(runs)}/{len(steps)} {step.name} ({step.label}): {wall:.0f} s of training")
    return {step.name: runs[step.name] for step in steps}


def artefact(kind: str, name: str, **inputs: Any) -> Provenance:
    """The provenance of a table this edgeplace computes from ``inputs`` (its version is one of them)."""
    return Provenance(kind, name, {**inputs, "edgeplace": package_version()})


def cached_frame(
    path: Path, provenance: Provenance, compute: Callable[[], pd.DataFrame], console: Console
) -> pd.DataFrame:
    """The table at ``path`` (CSV) when its digest (``X.digest.json`` beside it) is ``provenance``'s,
    else ``compute()``, written there atomically with its digest; recomputing over a stale table says
    why on ``console``."""
    record = digest_path(path)
    if path.is_file():
        reason = provenance.stale_reason(record)
        if reason is None:
            return pd.read_csv(path)
        console.print(f"{provenance.label}: cached with other inputs ({reason}): recomputing")
    frame = compute()
    record.unlink(missing_ok=True)  # a crash below leaves the table without a digest: stale, not wrong
    write_text_atomic(path, frame.to_csv(index=False))
    provenance.save(record)
    return frame


def ensure_evaluated(
    step: EvaluationStep, out: Path, scenario_id: str, budget: Budget, console: Console
) -> pd.DataFrame:
    """Per-episode KPIs of ``step`` under ``budget`` (one row per policy, seed, episode, with its tags),
    read from ``out/eval/<name>/episodes.csv`` when its digest matches (then no policy is built and no
    checkpoint loaded), else evaluated and written there."""

    def evaluate() -> pd.DataFrame:
        policies = step.policies.build()
        with episode_progress(len(policies) * len(step.seeds) * step.episodes, step.name) as advance:
            return evaluate_policies(
                scenario_id,
                step.env_config,
                policies,
                seeds=step.seeds,
                episodes=step.episodes,
                num_envs=64,
                on_episode=advance,
                info_columns=step.info_columns,
            )

    provenance = artefact(
        EVAL_DIR,
        step.name,
        scenario=scenario_id,
        env_config=step.env_config,
        seeds=step.seeds,
        episodes=step.episodes,
        policies=step.policies.sources,
        budget=budget,
        **({} if step.info_columns is None else {"info_columns": _qualified_name(step.info_columns)}),
    )
    path = out / EVAL_DIR / step.name / EPISODES_FILE
    return cached_frame(path, provenance, evaluate, console).assign(**step.tags)


def _qualified_name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def evaluate_all(
    steps: Sequence[EvaluationStep], out: Path, scenario_id: str, budget: Budget, console: Console
) -> pd.DataFrame:
    """The rows of every evaluation of ``steps`` (see :func:`ensure_evaluated`), in order."""
    frames = [ensure_evaluated(step, out, scenario_id, budget, console) for step in steps]
    return pd.concat(frames, ignore_index=True)


def baselines(
    scenario_id: str, names: Sequence[str], *, seed: int, env_config: Mapping[str, Any] | None = None
) -> list[Policy]:
    """The scenario's baseline policies ``names``, for envs built from ``env_config``."""
    return [make_baseline(scenario_id, name, seed=seed, env_config=env_config) for name in names]


def baseline_policies(
    scenario_id: str, names: Sequence[str], *, seed: int, env_config: Mapping[str, Any] | None = None
) -> Policies:
    """:func:`baselines` as an evaluation's policies: their names and seed are their sources."""
    build = partial(baselines, scenario_id, names, seed=seed, env_config=env_config)
    return Policies(build, {"baselines": list(names), "seed": seed})
