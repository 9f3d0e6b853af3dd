"""The HISPER reproduction's names and the statistics its report draws on: final and stable points of
the evaluation curves, paired gaps of the final evaluation, and training time per env step.

"Final" of a training curve is the mean of its last :data:`FINAL_EVALUATIONS` evaluations; the claims
test the final evaluation (learned policies: training seeds x evaluation seeds; baselines: evaluation
seeds) over training seeds, paired by evaluation stream (:mod:`edgeplace.evaluation.comparison`).
"Stable" is the first evaluation after which the reward stays above ``final - 0.05 (final - random)``,
with ``final`` the mean of the last :data:`STABLE_WINDOW` evaluations and ``random`` Random's mean
evaluation reward (spec h).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from edgeplace.envs.dnn_inference import DnnKPI
from edgeplace.evaluation.design import TRAINING_SEED
from edgeplace.evaluation.statistics import POLICY
from edgeplace.reproduce.steps import TrainedRun

if TYPE_CHECKING:
    from edgeplace.reproduce.hisper import HisperResults

ALPHA = 0.05
FINAL_EVALUATIONS, STABLE_WINDOW, STABLE_MARGIN = 10, 20, 0.05
LEARNED = ("hisper", "hasac", "happo")
BASELINES = ("heuristic", "greedy-sequential", "random")
POLICIES = (*LEARNED, *BASELINES)


def run_name(algo: str, agents: int, seed: int) -> str:
    """The run directory name ``<algo>-a<agents>-seed<seed>``."""
    return f"{algo}-a{agents}-seed{seed}"


def run_of(results: HisperResults, algo: str, agents: int, seed: int) -> TrainedRun:
    return results.runs[run_name(algo, agents, seed)]


def eval_curve(run: TrainedRun, agents: int, column: str = "eval_episode_return_mean") -> pd.DataFrame:
    """The evaluations during a run: columns ``steps`` (env steps), ``value`` and ``wall_s``."""
    metrics = run.metrics
    if column not in metrics:
        return pd.DataFrame({"steps": [], "value": [], "wall_s": []})
    rows = metrics[metrics[column].notna()]
    return pd.DataFrame(
        {
            "steps": rows["timesteps"].to_numpy() / agents,
            "value": rows[column].to_numpy(dtype=float),
            "wall_s": rows["wall_s"].to_numpy(dtype=float),
        }
    )


def curve_final(values: Sequence[float], last: int = FINAL_EVALUATIONS) -> float:
    """Mean of the last ``last`` evaluations (all of them when there are fewer); NaN when none."""
    values = np.asarray(values, dtype=float)
    return float(values[-last:].mean()) if values.size else float("nan")


def stable_index(values: Sequence[float], random_reward: float, window: int = STABLE_WINDOW) -> int | None:
    """Index of the first evaluation after which every evaluation stays above
    ``final - STABLE_MARGIN (final - random_reward)`` (``final``: mean of the last ``window``); None
    when there are no evaluations or the last one is not above the threshold.

    Shapes: values (n,) rewards in evaluation order.
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return None
    final = curve_final(values, window)
    threshold = final - STABLE_MARGIN * (final - random_reward)
    below = np.flatnonzero(values <= threshold)
    if below.size == 0:
        return 0
    first = int(below[-1]) + 1
    return first if first < values.size else None


def policy_values(frame: pd.DataFrame, policy: str, metric: str) -> np.ndarray:
    return frame.loc[frame[POLICY] == policy, metric].to_numpy(dtype=float)


def seed_gaps(frame: pd.DataFrame, a: str, b: str, metric: str) -> np.ndarray:
    """Per training seed, ``a``'s mean of ``metric`` minus ``b``'s (each over its evaluation streams, the
    same ones in a reproduction), the seeds of the two matched in sorted order (independent runs: any
    matching gives the difference the same variance).

    Shapes: -> (min(seeds of a, seeds of b),).
    """
    means = []
    for name in (a, b):
        rows = frame[frame[POLICY] == name]
        means.append(rows.groupby(TRAINING_SEED)[metric].mean().sort_index().to_numpy(dtype=float))
    n = min(len(m) for m in means)
    return means[0][:n] - means[1][:n]


def steps_to_stable(results: HisperResults, algo: str, agents: int) -> list[tuple[float, float]]:
    """(env steps, wall s) to stable per training seed of ``algo`` (NaN where the run never settles)."""
    random = float(policy_values(results.evaluations[agents], "random", DnnKPI.REWARD).mean())
    out = []
    for seed in results.budget.training_seeds:
        curve = eval_curve(run_of(results, algo, agents, seed), agents)
        index = stable_index(curve["value"], random)
        out.append(
            (float("nan"), float("nan"))
            if index is None
            else (float(curve["steps"].iloc[index]), float(curve["wall_s"].iloc[index]))
        )
    return out


def seconds_per_steps(run: TrainedRun, agents: int, steps: int = 2000) -> float:
    """Median wall seconds per ``steps`` env steps over a run's iterations (robust to a resume pause)."""
    metrics = run.metrics
    wall = np.diff(np.concatenate(([0.0], metrics["wall_s"].to_numpy(dtype=float))))
    per_iteration = np.diff(np.concatenate(([0.0], metrics["timesteps"].to_numpy(dtype=float)))) / agents
    return float(np.median(wall[1:] / per_iteration[1:] * steps)) if len(wall) > 1 else float("nan")
