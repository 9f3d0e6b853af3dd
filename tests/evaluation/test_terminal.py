"""The terminal summary: one row per policy, mean over CI, wrapped to the console's width."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.console import Console

from edgeplace.evaluation.statistics import summarize
from edgeplace.evaluation.terminal import summary_table

KPIS = ("sla_satisfaction", "weighted_hops_per_accepted_workflow", "latency_s")


def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [
        {"policy": policy, "seed": 0, "episode": e, "sla_satisfaction": rng.random(),
         "weighted_hops_per_accepted_workflow": 10 * rng.random(), "latency_s": np.nan}
        for policy in ("a-rather-long-policy-name", "greedy") for e in range(5)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_the_table_fits_80_columns_and_shows_every_policy_and_missing_kpis():
    summary = summarize(frame(), KPIS, resamples=200)
    console = Console(record=True, width=80)
    console.print(summary_table(summary, KPIS, title="demo"))
    text = console.export_text()
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "a-rather-long-policy-name" in text and "greedy" in text
    assert "n/a" in text  # latency_s has no values
    mean = summary.loc[summary["policy"] == "greedy", "sla_satisfaction_mean"].item()
    assert f"{mean:.3g}" in text
