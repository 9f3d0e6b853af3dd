"""VAMAPPO's learner-side running state, kept in learner checkpoints so ``--resume`` continues it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgeplace.algos.vamappo.mechanisms import ClipSchedule, RunningStandardizer, linear_schedule
from edgeplace.algos.vamappo.settings import VAMAPPOSettings


@dataclass
class VAMAPPOState:
    """Iteration count, the gate's standardisers, the agents' gradient cosines and the clip schedule."""

    settings: VAMAPPOSettings
    num_agents: int
    initial_clip: float = 0.2
    iteration: int = 0
    uncertainty_z: RunningStandardizer = field(default_factory=RunningStandardizer)
    volatility_z: RunningStandardizer = field(default_factory=RunningStandardizer)
    consistency: np.ndarray = field(init=False)
    clip: ClipSchedule = field(init=False)

    def __post_init__(self) -> None:
        self.consistency = np.zeros(self.num_agents)
        s = self.settings
        self.clip = ClipSchedule(
            eps_min=s.clip_min,
            eps_max=s.clip_max,
            window=s.clip_window,
            sensitivity=s.clip_sensitivity,
            initial=self.initial_clip,
            current=self.initial_clip,
        )

    @property
    def uncertainty_floor(self) -> float:
        """eta_min(k) of the current iteration."""
        s = self.settings
        return linear_schedule(
            s.uncertainty_floor_start, s.uncertainty_floor_end, self.iteration / s.anneal_iterations
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "iteration": self.iteration,
            "uncertainty_z": vars(self.uncertainty_z).copy(),
            "volatility_z": vars(self.volatility_z).copy(),
            "consistency": self.consistency.tolist(),
            "clip_steps": list(self.clip.steps),
            "clip_current": self.clip.current,
        }

    def load_dict(self, state: dict[str, Any]) -> None:
        self.iteration = int(state["iteration"])
        self.uncertainty_z = RunningStandardizer(**state["uncertainty_z"])
        self.volatility_z = RunningStandardizer(**state["volatility_z"])
        self.consistency = np.asarray(state["consistency"], dtype=np.float64)
        self.clip.steps.clear()
        self.clip.steps.extend(state["clip_steps"])
        self.clip.current = float(state["clip_current"])
