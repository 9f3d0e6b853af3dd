"""Algorithm ids -> RLlib AlgorithmConfig builders; registers every scenario as an RLlib env."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.tune.registry import register_env

from edgeplace.algos.mappo import build_ppo_config
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.vamappo.build import build_vamappo_config
from edgeplace.algos.vamappo.settings import PRESETS
from edgeplace.envs.registry import scenarios

_ALGORITHMS: dict[str, Callable[[TrainConfig], AlgorithmConfig]] = {
    "mappo": build_ppo_config,
    **{name: partial(build_vamappo_config, preset=name) for name in PRESETS},
}


def algorithm_names() -> list[str]:
    return sorted(_ALGORITHMS)


def register_rllib_envs() -> None:
    """Register each scenario with RLlib under its id (idempotent)."""
    for scenario in scenarios():
        register_env(scenario.scenario_id, scenario.make_env)


def build_algorithm_config(config: TrainConfig) -> AlgorithmConfig:
    """The RLlib config of a run; the error names the known algorithms."""
    if config.algo not in _ALGORITHMS:
        raise KeyError(f"unknown algorithm {config.algo!r}; known: {algorithm_names()}")
    register_rllib_envs()
    return _ALGORITHMS[config.algo](config)
