"""The summary table of a sweep: one row per trial, best first."""

from __future__ import annotations

import math

from ray.tune.result import TIMESTEPS_TOTAL, TRAINING_ITERATION, TRIAL_ID
from rich.table import Table

from edgeplace.tuning.spec import Mode
from edgeplace.tuning.sweep import SweepResult
from edgeplace.tuning.trial_config import config_column

#: Marks the best trial's row.
BEST_MARK = "★"


def summary_table(result: SweepResult) -> Table:
    """Trials sorted by the metric (best first) with their searched values, iterations and timesteps;
    the caption names the best checkpoint and any errored or unfinished trials."""
    table = Table(title=f"sweep {result.experiment_path}", caption=_caption(result))
    table.add_column("", width=1)
    table.add_column("trial")
    for key in result.searched:
        table.add_column(key, justify="right")
    table.add_column("iters", justify="right")
    table.add_column("timesteps", justify="right")
    table.add_column(result.metric, justify="right")
    frame = result.results
    if result.metric in frame:
        frame = frame.sort_values(result.metric, ascending=result.mode is Mode.MIN, na_position="last")
    for row in frame.to_dict("records"):
        best = row.get(TRIAL_ID) == result.best_trial_id
        table.add_row(
            BEST_MARK if best else "",
            str(row.get(TRIAL_ID, "?")),
            *(_cell(row.get(config_column(key))) for key in result.searched),
            _cell(row.get(TRAINING_ITERATION)),
            _cell(row.get(TIMESTEPS_TOTAL)),
            _cell(row.get(result.metric)),
            style="bold green" if best else None,
        )
    return table


def _caption(result: SweepResult) -> str:
    lines = [f"{result.num_trials} trials: {result.num_terminated} finished, {result.num_errors} errored"]
    if result.interrupted:
        lines.append("unfinished trials remain: resume with --resume")
    if result.best_checkpoint is not None:
        lines.append(f"best ({result.metric} {result.best_metric:.4g}): {result.best_checkpoint.path}")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
