"""Training through the scenario registry: a run's algorithm is looked up in its scenario's spec
(:class:`~edgeplace.scenarios.AlgorithmSpec`), and every scenario is registered as an RLlib env."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.tune.registry import register_env

from edgeplace.algos.train_config import TrainConfig
from edgeplace.scenarios import AlgorithmSpec, Preparation, get_scenario, scenarios

if TYPE_CHECKING:
    from edgeplace.algos.training import TrainingResult


def algorithm_spec(scenario_id: str, algo: str) -> AlgorithmSpec:
    """Algorithm ``algo`` of scenario ``scenario_id``; the errors name the known scenarios / algorithms."""
    return get_scenario(scenario_id).algorithm(algo)


def algorithms_for(scenario_id: str) -> list[str]:
    """Ids of the algorithms that train ``scenario_id``, sorted."""
    return sorted(get_scenario(scenario_id).algorithms)


def algorithm_preparation(scenario_id: str, algo: str) -> Preparation | None:
    """The stages ``algo`` runs before its RLlib run, or None."""
    return algorithm_spec(scenario_id, algo).preparation


def rllib_run_dir(config: TrainConfig, run_dir: str | Path) -> Path:
    """The directory of ``config``'s RLlib run (checkpoints, metrics CSV) inside ``run_dir``."""
    return Path(run_dir) / algorithm_spec(config.scenario, config.algo).rllib_subdir


def run_training(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    on_iteration: Callable[[dict[str, float]], None] | None = None,
) -> TrainingResult:
    """Train ``config`` into ``run_dir`` the way its algorithm trains (one RLlib run, or its stages)."""
    from edgeplace.algos.training import train

    trainer = algorithm_spec(config.scenario, config.algo).trainer or train
    return trainer(config, Path(run_dir), resume=resume, on_iteration=on_iteration)


def register_rllib_envs() -> None:
    """Register each scenario with RLlib under its id (idempotent)."""
    for scenario in scenarios():
        register_env(scenario.scenario_id, scenario.make_env)


def build_algorithm_config(config: TrainConfig) -> AlgorithmConfig:
    """The RLlib config of a run; the errors name the scenario's algorithms and reject options that
    an algorithm does not take."""
    algorithm = algorithm_spec(config.scenario, config.algo)
    if config.algo_options and not algorithm.takes_options:
        raise ValueError(f"{config.algo} takes no algo_options, got {dict(config.algo_options)}")
    register_rllib_envs()
    return algorithm.build(config)


def module_spec_builder(config: TrainConfig) -> Callable[[Mapping[str, Any]], Any]:
    """The ``model_config -> RLModuleSpec`` builder that ``config``'s algorithm declares for its
    scenario's observations.

    Raises:
        ValueError: the algorithm declares none (its builder must fix its own module).
    """
    algorithm = algorithm_spec(config.scenario, config.algo)
    if algorithm.module_spec is None:
        raise ValueError(f"{config.algo} on {config.scenario} declares no module_spec in its AlgorithmSpec")
    return algorithm.module_spec
