"""When a training curve converges (papers/llm-mappo.md, section g, "Convergence episode"): the first
episode after which the moving average of the per-episode metric stays within a share of the
(final - initial) gap from the final value."""

from __future__ import annotations

import numpy as np


def convergence_episode(
    episodes: np.ndarray, values: np.ndarray, *, window: int = 50, tolerance: float = 0.05, tail: float = 0.1
) -> float:
    """The convergence episode of a curve sampled at cumulative ``episodes`` (one point per training
    iteration, e.g. the iteration's mean episode utility), interpolated to one value per episode.

    Final = the mean of the last ``tail`` share of episodes, initial = the first moving average; the
    curve has converged from the first episode after which the ``window``-episode moving average stays
    within ``tolerance`` x |final - initial| of final. NaN with fewer than 2 finite points.

    Shapes: episodes (n,) increasing, values (n,) -> float (an episode number, 1-based).
    """
    finite = np.isfinite(values) & np.isfinite(episodes)
    episodes, values = np.asarray(episodes, float)[finite], np.asarray(values, float)[finite]
    if episodes.size < 2:
        return float("nan")
    grid = np.arange(max(1, int(np.ceil(episodes[0]))), int(episodes[-1]) + 1)
    per_episode = np.interp(grid, episodes, values)
    width = max(1, min(window, grid.size))
    moving = np.convolve(
        per_episode, np.ones(width) / width, mode="valid"
    )  # moving[i] ends at grid[i + width - 1]
    final = per_episode[-max(1, int(round(tail * grid.size))) :].mean()
    band = max(tolerance * abs(final - moving[0]), 1e-12)
    outside = np.flatnonzero(np.abs(moving - final) > band)
    first = 0 if outside.size == 0 else int(outside[-1]) + 1
    return float(grid[min(first + width - 1, grid.size - 1)])
