"""The RSPPO-like replica autoscaler of the metaverse-dag scenario (papers/llm-mappo.md, section f): per
region and microservice a replica count that follows the last step's load; the place mask allows NONE
alone on the slots at or beyond it, so the policy only picks nodes for the replicas the count allows."""

from __future__ import annotations

import numpy as np

from edgeplace.envs.metaverse_dag.fluid import StepOutcome

SCALE_UP_RHO = 0.7
"""Add a replica when the mean rho of the microservice's running replicas exceeds this."""
SCALE_DOWN_RHO = 0.3
"""Remove one when it is below this."""


def mean_running_rho(out: StepOutcome) -> np.ndarray:
    """Mean rho over each microservice's running (started) replicas; NaN where none runs.

    Shapes: -> (K, C, M).
    """
    running = out.started.sum(axis=-1)
    total = np.where(out.started, out.rho, 0.0).sum(axis=-1)
    return np.divide(total, running, out=np.full(total.shape, np.nan), where=running > 0)


def scaled_counts(count: np.ndarray, out: StepOutcome, r_max: int) -> np.ndarray:
    """One step of the autoscaler: +1 above :data:`SCALE_UP_RHO`, -1 below :data:`SCALE_DOWN_RHO`,
    unchanged where no replica ran; bounded to 1 .. ``r_max``.

    Shapes: count (K, C, M) int64 -> (K, C, M) int64.
    """
    rho = mean_running_rho(out)
    step = np.where(np.isnan(rho), 0, (rho > SCALE_UP_RHO).astype(np.int64) - (rho < SCALE_DOWN_RHO))
    return np.clip(count + step, 1, r_max).astype(np.int64)
