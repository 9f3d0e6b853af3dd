"""What a planner measures over an epoch: offered prompts and measured vs modelled service times."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeplace.envs.lm_inference.lm_types import NUM_LMS
from edgeplace.envs.lm_inference.simulator import LmInferenceSim


@dataclass(frozen=True)
class EpochTelemetry:
    """Measurements over slots [first_slot, end_slot).

    Shapes: every array (I,) float64.
    """

    first_slot: int
    end_slot: int
    duration_s: float
    arrived_prompts: np.ndarray
    """Prompts of the requests released in the window (routed or not)."""
    prompt_actual_s: np.ndarray
    """Measured seconds of the prompts completed in the window."""
    prompt_nominal_s: np.ndarray
    """The same prompts' unshared model time."""

    @property
    def demand_prompts_s(self) -> np.ndarray:
        """Offered load per LM, prompts/s. Shapes: (I,)."""
        return self.arrived_prompts / self.duration_s

    def service_correction(self) -> np.ndarray:
        """Measured / modelled prompt time per LM; NaN for an LM without completed prompts. Shapes: (I,)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.prompt_nominal_s > 0, self.prompt_actual_s / self.prompt_nominal_s, np.nan)


def epoch_telemetry(sim: LmInferenceSim, first_slot: int, end_slot: int) -> EpochTelemetry:
    """The telemetry of slots [first_slot, end_slot) of a simulator that has run them."""
    if not 0 <= first_slot < end_slot <= sim.slot:
        raise ValueError(
            f"window [{first_slot}, {end_slot}) must be a non-empty range of run slots (< {sim.slot})"
        )
    log = sim.log
    ids = slice(log.slot_start[first_slot], log.slot_start[end_slot])
    actual, nominal = sim.service_stats(first_slot, end_slot)
    return EpochTelemetry(
        first_slot=first_slot,
        end_slot=end_slot,
        duration_s=(end_slot - first_slot) * sim.params.slot_s,
        arrived_prompts=np.bincount(log.lm[ids], weights=log.prompts[ids], minlength=NUM_LMS),
        prompt_actual_s=actual,
        prompt_nominal_s=nominal,
    )
