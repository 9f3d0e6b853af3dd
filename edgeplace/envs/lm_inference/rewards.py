"""Rewards of the lm-inference agents (spec d, "Rewards and delayed credit").

- Eq. 20, per cohort: r_t = 1 - J over the requests *arriving* in slot t, once all have resolved
  (evaluation; the delayed labels of ``cohort_retimed``).
- Training reward of the scheduler and the deployers, at the end of slot t: the same formula over the
  requests *resolved* in slots t - w + 1 .. t (w = 5; F over the LM types with a resolution in the
  window, normalised by their count); when nothing resolved, the previous value (initially 0). Plus
  potential-based shaping gamma Phi(s') - Phi(s) with Phi = -sum_{n,i} W_ni / (N tau), W_ni = the
  backlog's prompts x LM i's 1-vGPU time (2 host cores), s and s' the states at the starts of slots
  t and t + 1.
- Planner reward: 1 - J_e over the requests resolved in epoch e.
"""

from __future__ import annotations

import numpy as np

from edgeplace.envs.lm_inference.kpis import CohortKpis, cohort_kpis
from edgeplace.envs.lm_inference.lm_types import NUM_LMS, Mode
from edgeplace.envs.lm_inference.params import LmInferenceParams
from edgeplace.envs.lm_inference.request_log import RequestLog
from edgeplace.envs.lm_inference.time_model import prompt_time_s


def objective_reward(kpis: CohortKpis) -> float:
    """1 - J (Eq. 20) of a set of requests."""
    return 1.0 - kpis.objective


def reference_prompt_s(params: LmInferenceParams) -> np.ndarray:
    """Per-prompt time of each LM on one vGPU with the GPU host cores (1.13, 3.38, 1.69, 28.1 s).
    Shapes: (I,)."""
    return prompt_time_s(np.arange(NUM_LMS), Mode.GPU, params.gpu_host_cores, 1, params)


def potential(backlog_prompts: np.ndarray, params: LmInferenceParams) -> float:
    """Phi = -sum W_ni / (N tau). Shapes: backlog_prompts (N, I)."""
    work_s = backlog_prompts * reference_prompt_s(params)[None, :]
    return -float(work_s.sum()) / (backlog_prompts.shape[0] * params.deadline_s)


def cohort_rewards(log: RequestLog, first_slot: int, end_slot: int, params: LmInferenceParams) -> np.ndarray:
    """Eq. 20 of each cohort of slots [first_slot, end_slot) (unresolved requests count as failures).
    Shapes: -> (end_slot - first_slot,)."""
    return np.array(
        [
            objective_reward(cohort_kpis(log, np.arange(log.slot_start[t], log.slot_start[t + 1]), params))
            for t in range(first_slot, end_slot)
        ]
    )


class WindowedReward:
    """The training reward's objective part over a sliding window of resolutions (see the module
    docstring); holds its last value for windows without resolutions."""

    def __init__(self, window_slots: int, params: LmInferenceParams) -> None:
        self.window_slots, self.params = window_slots, params
        self.value = 0.0

    def update(self, log: RequestLog, slot: int) -> float:
        """The reward at the end of slot ``slot``."""
        slot_s = self.params.slot_s
        start_s, end_s = (slot + 1 - self.window_slots) * slot_s, (slot + 1) * slot_s
        resolved = (log.resolved_s >= start_s) & (log.resolved_s < end_s)
        if resolved.any():
            self.value = objective_reward(cohort_kpis(log, resolved, self.params))
        return self.value
