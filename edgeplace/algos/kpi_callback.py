"""An RLlib callback that lifts the env's episode KPIs into training metrics."""

from __future__ import annotations

from typing import Any

from ray.rllib.callbacks.callbacks import RLlibCallback

from edgeplace.envs.base import KPI_INFO_KEY

#: Prefix of KPI metrics in ``result["env_runners"]`` (e.g. ``kpi_sla_satisfaction``).
KPI_METRIC_PREFIX = "kpi_"


class KPICallback(RLlibCallback):
    """Logs ``infos[agent][KPI_INFO_KEY]`` of each finished episode as mean-reduced metrics."""

    def on_episode_end(self, *, episode: Any, metrics_logger: Any = None, **kwargs: Any) -> None:
        if metrics_logger is None:
            return
        for info in episode.get_infos(-1).values():
            if KPI_INFO_KEY in info:
                for name, value in info[KPI_INFO_KEY].items():
                    metrics_logger.log_value(
                        KPI_METRIC_PREFIX + name, float(value), reduce="mean", window=100
                    )
                return
