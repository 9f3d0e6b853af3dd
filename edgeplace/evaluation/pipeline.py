"""Evaluate policies on a scenario and write the report (JSON, Markdown table, PNG plots)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from edgeplace.evaluation.design import REQUEST_SET
from edgeplace.evaluation.report import EvaluationReport, write_evaluation_report
from edgeplace.evaluation.runner import evaluate_policies
from edgeplace.policy import Policy
from edgeplace.scenarios import get_scenario

#: How rates are shown in tables; other KPIs use the report's default number format.
PERCENT_KPIS = ("sla_satisfaction", "nodes_used_fraction")


def evaluate_to_report(
    scenario_id: str,
    env_config: Mapping[str, Any],
    policies: Sequence[Policy],
    *,
    seeds: Sequence[int],
    episodes: int,
    out_dir: str | Path,
    metadata: Mapping[str, Any] | None = None,
    reference: str | None = None,
    on_episode: Callable[[], None] | None = None,
) -> EvaluationReport:
    """Run every policy on the same episodes, then summarise (mean, std, bootstrap CI over the independent
    units) and write the report into ``out_dir``. ``reference`` (a policy name) adds paired comparisons
    with it."""
    scenario = get_scenario(scenario_id)
    frame = evaluate_policies(
        scenario_id, env_config, policies, seeds=seeds, episodes=episodes, on_episode=on_episode
    )
    formats = {kpi: "{:.1%}" for kpi in PERCENT_KPIS if kpi in scenario.kpis}
    setup = {
        "scenario": scenario_id,
        "env_config": dict(env_config),
        "seeds": list(seeds),
        "episodes per seed": episodes,
        **_coverage(frame),
        **(metadata or {}),
    }
    return write_evaluation_report(
        frame,
        list(scenario.kpis),
        out_dir,
        title=f"{scenario_id}: evaluation",
        formats=formats,
        metadata=setup,
        reference=reference,
    )


def _coverage(frame: pd.DataFrame) -> dict[str, str]:
    """How many distinct request sets the episodes replayed, where the env replays a finite set."""
    if REQUEST_SET not in frame:
        return {}
    sets = frame[REQUEST_SET].nunique()
    return {"request sets": f"{sets} distinct; the episodes of one set are one cluster in the statistics"}
