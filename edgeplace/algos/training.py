"""The training loop shared by every RLlib algorithm: build, (resume,) iterate, log, checkpoint.

Writes into the run directory: ``checkpoints/`` (atomic, see :mod:`edgeplace.algos.checkpoints`),
``metrics.csv`` (one row per iteration) and ``learning_curve.png``.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, LEARNER_RESULTS

from edgeplace.algos.checkpoints import checkpoint_metadata, latest_checkpoint, read_metadata, save_checkpoint
from edgeplace.algos.kpi_callback import KPI_METRIC_PREFIX
from edgeplace.algos.registry import algorithm_spec, build_algorithm_config
from edgeplace.algos.train_config import TrainConfig
from edgeplace.atomic_io import write_text_atomic
from edgeplace.evaluation.plots import learning_curve_plot
from edgeplace.scenarios import get_scenario

METRICS_FILE = "metrics.csv"
CURVE_FILE = "learning_curve.png"
#: Result section of evaluations on fixed seeds (HISPER/HAPPO); copied with an ``eval_`` prefix.
EVALUATION_RESULTS = "evaluation"


@dataclass(frozen=True)
class TrainingResult:
    """Where a finished run put its outputs, and what it cost."""

    run_dir: Path
    checkpoint: Path
    metrics_csv: Path
    curve_png: Path
    timesteps: int
    iterations: int
    wall_s: float


def iteration_row(
    result: Mapping[str, Any],
    iteration: int,
    timesteps: int,
    wall_s: float,
    learner_metrics: Sequence[str] = (),
) -> dict[str, float]:
    """The metrics row of one training iteration: return, KPIs and, per module, the learner results
    named in ``learner_metrics``."""
    runners = result.get(ENV_RUNNER_RESULTS, {})
    row: dict[str, float] = {"iteration": iteration, "timesteps": timesteps, "wall_s": wall_s}
    row["episode_return_mean"] = runners.get("episode_return_mean", float("nan"))
    row.update({key: value for key, value in runners.items() if key.startswith(KPI_METRIC_PREFIX)})
    evaluation = result.get(EVALUATION_RESULTS, {}).get(ENV_RUNNER_RESULTS, {})
    row.update(
        {
            f"eval_{key}": value
            for key, value in evaluation.items()
            if key == "episode_return_mean" or key.startswith(KPI_METRIC_PREFIX)
        }
    )
    for module_id, stats in result.get(LEARNER_RESULTS, {}).items():
        if module_id.startswith("__"):
            continue
        for stat in learner_metrics:
            if stat in stats:
                row[f"{module_id}/{stat}"] = float(stats[stat])
    return row


def sampled_timesteps(result: Mapping[str, Any]) -> int:
    """Lifetime agent decisions sampled, from an RLlib result dict."""
    runners = result.get(ENV_RUNNER_RESULTS, {})
    value = runners.get("num_agent_steps_sampled_lifetime", runners.get("num_env_steps_sampled_lifetime", 0))
    if isinstance(value, Mapping):
        value = sum(value.values())
    return int(value)


def train(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    on_iteration: Callable[[dict[str, float]], None] | None = None,
) -> TrainingResult:
    """Train ``config`` into ``run_dir``; with ``resume``, continue from its latest checkpoint."""
    run_dir = Path(run_dir).resolve()  # RLlib writes checkpoints through a pyarrow filesystem URI
    run_dir.mkdir(parents=True, exist_ok=True)
    scenario = get_scenario(config.scenario)
    learner_metrics = algorithm_spec(config.scenario, config.algo).learner_metrics
    algo = build_algorithm_config(config).build_algo()
    rows: list[dict[str, float]] = []
    iteration, timesteps, wall_offset = 0, 0, 0.0
    checkpoint = latest_checkpoint(run_dir) if resume else None
    if resume and checkpoint is None:
        raise FileNotFoundError(f"--resume: {run_dir} has no checkpoint to resume from")
    if checkpoint is not None:
        algo.restore_from_path(str(checkpoint))
        state = read_metadata(checkpoint)
        iteration, timesteps, wall_offset = state["iteration"], state["timesteps"], state["wall_s"]
        if (run_dir / METRICS_FILE).is_file():
            rows = pd.read_csv(run_dir / METRICS_FILE).query("iteration <= @iteration").to_dict("records")
    env = scenario.make_env(config.env_config)
    agent_modules = {agent: algo.config.policy_mapping_fn(agent, None) for agent in env.possible_agents}
    start = time.perf_counter() - wall_offset
    try:
        while timesteps < config.timesteps:
            result = algo.train()
            iteration += 1
            timesteps = sampled_timesteps(result)
            row = iteration_row(result, iteration, timesteps, time.perf_counter() - start, learner_metrics)
            rows.append(row)
            if on_iteration:
                on_iteration(row)
            if iteration % config.checkpoint_every == 0 or timesteps >= config.timesteps:
                metadata = checkpoint_metadata(config, agent_modules, iteration, timesteps, row["wall_s"])
                checkpoint = save_checkpoint(algo, run_dir, iteration, metadata, config.keep_checkpoints)
                _write_metrics(run_dir, rows)
    finally:
        algo.stop()
    assert checkpoint is not None
    frame = _write_metrics(run_dir, rows)
    curve = run_dir / CURVE_FILE
    kpi_columns = [c for c in frame.columns if c.startswith(KPI_METRIC_PREFIX)]
    learning_curve_plot(
        frame, curve, x="timesteps", ys=["episode_return_mean", *kpi_columns], title=config.algo
    )
    return TrainingResult(
        run_dir=run_dir,
        checkpoint=checkpoint,
        metrics_csv=run_dir / METRICS_FILE,
        curve_png=curve,
        timesteps=timesteps,
        iterations=iteration,
        wall_s=rows[-1]["wall_s"] if rows else 0.0,
    )


def _write_metrics(run_dir: Path, rows: list[dict[str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    write_text_atomic(run_dir / METRICS_FILE, buffer.getvalue())
    return frame
