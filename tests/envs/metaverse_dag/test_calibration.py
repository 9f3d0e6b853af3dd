"""Spec b's calibration test: greedy on ``small`` at peak hour (D = 1) keeps the mean replica busy
fraction in [.3, .7] and violations in [5, 40] % at the default speed_scale (means over 4 episodes)."""

from __future__ import annotations

import numpy as np

from edgeplace.algos.baselines.metaverse_dag import GreedyPolicy
from edgeplace.envs.metaverse_dag import MetaverseDagEnv, MvKpi
from edgeplace.evaluation.runner import run_episodes

PEAK = {"preset": "small", "start_hour": 18.0}


def test_greedy_at_peak_hour_is_in_the_calibration_window():
    episodes = run_episodes(lambda: MetaverseDagEnv(PEAK), GreedyPolicy(PEAK), seed=0, episodes=4)
    busy = np.mean([kpis[MvKpi.BUSY_FRACTION] for kpis in episodes])
    violations = np.mean([kpis[MvKpi.VIOLATION_RATE] for kpis in episodes])
    assert 0.3 <= busy <= 0.7 and 0.05 <= violations <= 0.40, (busy, violations)


def test_the_paper_speeds_miss_the_window():
    """The knob matters: at speed_scale 1 the greedy placement violates far more than 40 %."""
    slow = {**PEAK, "speed_scale": 1.0, "horizon": 20}
    (kpis,) = run_episodes(lambda: MetaverseDagEnv(slow), GreedyPolicy(slow), seed=0, episodes=1)
    assert kpis[MvKpi.VIOLATION_RATE] > 0.40
