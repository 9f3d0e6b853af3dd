"""Table 3's planner experiment (papers/llm-mappo.md, section g) at a tiny size: every variant and memory
row is measured, and the steps are cached (a rerun reuses them)."""

from __future__ import annotations

import numpy as np

from edgeplace.planners.soft_plans.memory_training import BUCKET_NAMES
from edgeplace.reproduce.llm_mappo_planner import (
    MEMORY,
    MEMORY_ROWS,
    ROW,
    VARIANTS,
    PlannerMseSettings,
    planner_mse_table,
)

TINY_ENV = {"horizon": 6, "plan_period_s": 30.0}


def test_every_variant_is_measured_with_and_without_memory_and_reruns_reuse_the_steps(tmp_path):
    settings = PlannerMseSettings(windows=24, held_out_windows=16, online_windows=8, epochs=2)
    table = planner_mse_table(tmp_path, settings, TINY_ENV)
    assert list(table[ROW]) == [v for v in VARIANTS for _ in MEMORY_ROWS]
    assert list(table[MEMORY]) == list(MEMORY_ROWS) * len(VARIANTS)
    errors = table[list(BUCKET_NAMES)].to_numpy()
    measured = ~np.isnan(errors)
    assert measured.any(axis=1).all() and (errors[measured] >= 0).all()
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    again = planner_mse_table(tmp_path, settings, TINY_ENV)
    assert again.equals(table)
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamps
