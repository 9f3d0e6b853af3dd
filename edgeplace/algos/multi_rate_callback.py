"""An RLlib callback for envs whose agents do not all act in every sample (the multi-rate envs: the
lm-inference planner acts once per 50 slots).

RLlib 2.60 counts each agent's sampled steps as a per-sample sum. An agent that acted in an earlier
sample but not in this one leaves that sum without values, which reduces to NaN, and the sampler's
step count (``int`` of every agent's sum, with ``count_steps_by="agent_steps"``) then fails. Logging a
zero for every agent of the env at the end of each sample keeps every sum defined without changing it.
"""

from __future__ import annotations

from typing import Any

from ray.rllib.callbacks.callbacks import RLlibCallback
from ray.rllib.utils.metrics import NUM_AGENT_STEPS_SAMPLED


class ZeroStepCounts(RLlibCallback):
    """Logs 0 sampled steps for every possible agent of the env runner's env after each sample."""

    def on_sample_end(self, *, env_runner: Any = None, metrics_logger: Any = None, **kwargs: Any) -> None:
        envs = getattr(getattr(env_runner, "env", None), "envs", None)  # the sync vector env's copies
        if not envs or metrics_logger is None:
            return
        for agent in envs[0].unwrapped.possible_agents:
            metrics_logger.log_value((NUM_AGENT_STEPS_SAMPLED, str(agent)), 0, reduce="sum")
