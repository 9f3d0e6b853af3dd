"""Resumable steps of a reproduction: training runs and evaluations are skipped when their outputs
already exist under the reproduction's ``out`` directory, so an interrupted ``edgeplace reproduce``
continues where it stopped. Every call into the algorithm registry and the baselines is made here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from edgeplace.algos.baselines import make_baseline
from edgeplace.algos.checkpoints import latest_checkpoint, read_metadata
from edgeplace.algos.registry import rllib_run_dir, run_training
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import METRICS_FILE
from edgeplace.atomic_io import write_text_atomic
from edgeplace.evaluation.runner import evaluate_policies
from edgeplace.policy import Policy
from edgeplace.progress import episode_progress, training_progress
from edgeplace.torch_threads import torch_threads

RUNS_DIR, EVAL_DIR = "runs", "eval"
EPISODES_FILE = "episodes.csv"


@dataclass(frozen=True)
class TrainedRun:
    """A finished training run: its latest checkpoint and per-iteration metrics."""

    name: str
    checkpoint: Path
    metrics: pd.DataFrame


@dataclass(frozen=True)
class TrainingStep:
    """One training run of a protocol, named by its output directory ``runs/<name>``."""

    name: str
    config: TrainConfig
    label: str = ""
    """What the run is, for progress and report lines."""


@dataclass(frozen=True)
class EvaluationStep:
    """One evaluation of a protocol, cached as ``eval/<name>/episodes.csv``: the policies
    ``make_policies()`` returns, ``episodes`` episodes of each seed on envs built from ``env_config``."""

    name: str
    env_config: Mapping[str, Any]
    make_policies: Callable[[], Sequence[Policy]]
    seeds: Sequence[int]
    episodes: int
    tags: Mapping[str, Any] = field(default_factory=dict)
    """Columns set on every row of the result (e.g. the swept value); not part of the cached file."""


def ensure_trained(step: TrainingStep, out: Path) -> TrainedRun:
    """Train ``step`` unless ``out/runs/<name>`` already holds a checkpoint at its budget; a shorter
    checkpoint is resumed. Algorithms with stages (AgentVNE) resume each stage."""
    run_dir = out / RUNS_DIR / step.name
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


def cached_frame(path: Path, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The table at ``path`` (CSV) when it exists, else ``compute()``, written there atomically."""
    if path.is_file():
        return pd.read_csv(path)
    frame = compute()
    write_text_atomic(path, frame.to_csv(index=False))
    return frame


def ensure_evaluated(step: EvaluationStep, out: Path, scenario_id: str) -> pd.DataFrame:
    """Per-episode KPIs of ``step`` (one row per policy, seed, episode, with its tags), read from
    ``out/eval/<name>/episodes.csv`` when it exists (then no policy is built and no checkpoint
    loaded), else evaluated and written there."""

    def evaluate() -> pd.DataFrame:
        policies = step.make_policies()
        with episode_progress(len(policies) * len(step.seeds) * step.episodes, step.name) as advance:
            return evaluate_policies(
                scenario_id,
                step.env_config,
                policies,
                seeds=step.seeds,
                episodes=step.episodes,
                num_envs=64,
                on_episode=advance,
            )

    return cached_frame(out / EVAL_DIR / step.name / EPISODES_FILE, evaluate).assign(**step.tags)


def evaluate_all(steps: Sequence[EvaluationStep], out: Path, scenario_id: str) -> pd.DataFrame:
    """The rows of every evaluation of ``steps`` (see :func:`ensure_evaluated`), in order."""
    return pd.concat([ensure_evaluated(step, out, scenario_id) for step in steps], ignore_index=True)


def baselines(
    scenario_id: str, names: Sequence[str], *, seed: int, env_config: Mapping[str, Any] | None = None
) -> list[Policy]:
    """The scenario's baseline policies ``names``, for envs built from ``env_config``."""
    return [make_baseline(scenario_id, name, seed=seed, env_config=env_config) for name in names]
