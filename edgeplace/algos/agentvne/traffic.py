"""Randomised traffic for fine-tuning: each new training episode gets lambda drawn uniformly from a grid
(papers/agentvne.md, section f: lambda ~ U{0.1, ..., 0.6})."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from edgeplace.algos.kpi_callback import KPICallback
from edgeplace.envs.agent_vne import AgentVNEEnv

#: ``env_runner.config.env_config`` key this callback reads its grid from.
ARRIVAL_RATES_KEY = "arrival_rates"


class ArrivalRateCallback(KPICallback):
    """Before an episode starts (``on_episode_created``), set its env copy's arrival rate to a draw from
    the rates in the runner's ``learner_config_dict[ARRIVAL_RATES_KEY]``.

    With vectorised envs a copy may already have reset when the callback runs, in which case the draw
    applies from its next episode: each episode still gets a uniform draw, independent of its outcome.
    Seeded by the run's seed and the runner's index.
    """

    def __init__(self) -> None:
        super().__init__()
        self._rng: np.random.Generator | None = None

    def on_episode_created(
        self, *, env_runner: Any = None, env: Any = None, env_index: int = 0, **kwargs
    ) -> None:
        if env_runner is None or env is None:
            return
        rates = env_runner.config.learner_config_dict.get(ARRIVAL_RATES_KEY)
        if not rates:
            return
        if self._rng is None:
            self._rng = np.random.default_rng([env_runner.config.seed or 0, env_runner.worker_index])
        copy = env.envs[env_index].unwrapped
        if isinstance(copy, AgentVNEEnv):
            rate = float(self._rng.choice(np.asarray(rates, dtype=np.float64)))
            copy.config = dataclasses.replace(copy.config, arrival_rate=rate)
