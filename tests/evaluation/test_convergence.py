"""The convergence episode of a training curve (papers/llm-mappo.md, section g)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgeplace.evaluation.convergence import convergence_episode


def test_a_step_curve_converges_one_window_after_the_step():
    episodes = np.arange(1, 401, dtype=float)
    values = np.where(episodes <= 100, 0.2, 0.8)
    assert convergence_episode(episodes, values, window=50) == pytest.approx(149, abs=1)


def test_a_later_step_converges_later_and_a_flat_curve_at_once():
    episodes = np.arange(1, 401, dtype=float)
    early = convergence_episode(episodes, np.where(episodes <= 100, 0.0, 1.0))
    late = convergence_episode(episodes, np.where(episodes <= 250, 0.0, 1.0))
    assert late > early
    assert convergence_episode(episodes, np.full(episodes.size, 0.5), window=10) == 10


def test_iteration_points_are_interpolated_per_episode():
    per_iteration = convergence_episode(np.array([10.0, 20, 30, 40, 400]), np.array([0.0, 0.5, 1, 1, 1]))
    assert 30 <= per_iteration <= 90
    assert math.isnan(convergence_episode(np.array([5.0]), np.array([1.0])))
