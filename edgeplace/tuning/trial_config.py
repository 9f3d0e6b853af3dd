"""The config Tune hands each trial, both ways: a sweep -> Tune's ``param_space``, and a sampled
trial config -> the trial's TrainConfig, RLlib AlgorithmConfig and placement group.

A trial config is ``{"train": <TrainConfig dict with the sampled values>, "resources": <ResourcesSpec
dict>}``; Tune's results show the sampled values as ``config/train/lr``, ``config/train/model/d_model``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.tune import PlacementGroupFactory

from edgeplace.algos.registry import build_algorithm_config
from edgeplace.algos.train_config import TrainConfig
from edgeplace.tuning.resources_spec import ResourcesSpec
from edgeplace.tuning.search_space import KEY_SEPARATOR, SearchDimension, nest, overlay

#: Key of the TrainConfig dict in a trial config.
TRAIN_KEY = "train"
#: Key of the ResourcesSpec dict in a trial config.
RESOURCES_KEY = "resources"
#: Prefix of sampled config values in Tune's result table.
CONFIG_COLUMN_PREFIX = "config"
#: How Tune joins nested result keys (``env_runners/episode_return_mean``).
RESULT_KEY_DELIMITER = "/"


def param_space(
    train: TrainConfig, search_space: tuple[SearchDimension, ...], resources: ResourcesSpec
) -> dict[str, Any]:
    """Tune's ``param_space``: the fixed TrainConfig with the searched keys replaced by samplers."""
    samplers = nest(search_space, {dimension.key: dimension.to_tune() for dimension in search_space})
    return {TRAIN_KEY: overlay(train.to_dict(), samplers), RESOURCES_KEY: dataclasses.asdict(resources)}


def trial_configs(trial_config: Mapping[str, Any]) -> tuple[TrainConfig, AlgorithmConfig]:
    """A sampled trial config -> its TrainConfig and its RLlib config (resources applied)."""
    train = TrainConfig.from_dict(trial_config[TRAIN_KEY])
    resources = ResourcesSpec(**trial_config[RESOURCES_KEY])
    return train, resources.apply(build_algorithm_config(train))


def trial_resources(trial_config: Mapping[str, Any]) -> PlacementGroupFactory:
    """The trial's placement group: RLlib's own request for its AlgorithmConfig (main process with
    the local learner, EnvRunners, remote Learners; CPUs and fractional GPUs)."""
    _, algo_config = trial_configs(trial_config)
    return algo_config.algo_class.default_resource_request(algo_config)


def config_column(key: str) -> str:
    """The result-table column of a searched key (``model.d_model`` -> ``config/train/model/d_model``)."""
    return RESULT_KEY_DELIMITER.join((CONFIG_COLUMN_PREFIX, TRAIN_KEY, *key.split(KEY_SEPARATOR)))
