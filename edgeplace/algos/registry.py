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


def build_metappo_config(config: TrainConfig) -> AlgorithmConfig:
    """METAPPO (VAMAPPO spec f): MAPPO trained in the env with load-aware reward and task migration."""
    return build_ppo_config(config.replace(env_config={**config.env_config, **METAPPO_ENV}))


#: The env settings METAPPO trains and is evaluated with.
METAPPO_ENV = {"load_aware_migration": True}

_ALGORITHMS: dict[str, Callable[[TrainConfig], AlgorithmConfig]] = {
    "mappo": build_ppo_config,
    "metappo": build_metappo_config,
    **{name: partial(build_vamappo_config, preset=name) for name in PRESETS},
}


#: Scenarios each algorithm is built for (the placement module reads item-placement observations).
_SCENARIOS_OF = dict.fromkeys(_ALGORITHMS, ("genai-chain",))


#: Algorithms with no algorithm-specific settings (VAMAPPO's presets validate their own).
_WITHOUT_OPTIONS = ("mappo", "metappo")


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
    if config.algo_options and config.algo in _WITHOUT_OPTIONS:
        raise ValueError(f"{config.algo} takes no algo_options, got {dict(config.algo_options)}")
    if config.scenario not in _SCENARIOS_OF[config.algo]:
        fitting = [name for name, supported in _SCENARIOS_OF.items() if config.scenario in supported]
        raise ValueError(
            f"algorithm {config.algo!r} does not train scenario {config.scenario!r}; "
            f"algorithms for it: {fitting or 'none yet'}"
        )
    register_rllib_envs()
    return _ALGORITHMS[config.algo](config)
