"""Resumable building blocks of a paper reproduction: training runs and evaluations that are skipped
when their outputs already exist, so an interrupted ``edgeplace reproduce`` continues where it
stopped. Every output lands under the reproduction's ``out`` directory."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from edgeplace.algos.checkpoints import latest_checkpoint, read_metadata
from edgeplace.algos.registry import rllib_run_dir, run_training
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import METRICS_FILE
from edgeplace.atomic_io import write_text_atomic
from edgeplace.evaluation.runner import evaluate_policies
from edgeplace.policy import Policy
from edgeplace.progress import episode_progress, training_progress

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
    overrides: Mapping[str, Any] = field(default_factory=dict)


def ensure_trained(step: TrainingStep, out: Path) -> TrainedRun:
    """Train ``step`` unless ``out/runs/<name>`` already holds a checkpoint at its budget; a shorter
    checkpoint is resumed. Algorithms with stages (AgentVNE) resume each stage."""
    run_dir = out / RUNS_DIR / step.name
    rllib_dir = rllib_run_dir(step.config.algo, run_dir)
    checkpoint = latest_checkpoint(rllib_dir)
    done = checkpoint is not None and read_metadata(checkpoint)["timesteps"] >= step.config.timesteps
    if not done:
        start = read_metadata(checkpoint)["timesteps"] if checkpoint is not None else 0
        with training_progress(step.config.timesteps, start=start) as on_iteration:
            run_training(step.config, run_dir, resume=checkpoint is not None, on_iteration=on_iteration)
        checkpoint = latest_checkpoint(rllib_dir)
    assert checkpoint is not None
    return TrainedRun(step.name, checkpoint, pd.read_csv(rllib_dir / METRICS_FILE))


def ensure_evaluated(
    name: str,
    out: Path,
    scenario_id: str,
    env_config: Mapping[str, Any],
    make_policies: Callable[[], Sequence[Policy]],
    *,
    seeds: Sequence[int],
    episodes: int,
) -> pd.DataFrame:
    """Per-episode KPIs of the policies ``make_policies()`` returns (one row per policy, seed,
    episode), read from ``out/eval/<name>/episodes.csv`` when it exists (then no policy is built and
    no checkpoint loaded), else evaluated and written there."""
    path = out / EVAL_DIR / name / EPISODES_FILE
    if path.is_file():
        return pd.read_csv(path)
    policies = make_policies()
    with episode_progress(len(policies) * len(seeds) * episodes, name) as advance:
        frame = evaluate_policies(
            scenario_id, env_config, policies, seeds=seeds, episodes=episodes, num_envs=64, on_episode=advance
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    write_text_atomic(path, buffer.getvalue())
    return frame
