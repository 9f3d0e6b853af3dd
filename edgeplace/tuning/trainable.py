"""The Tune trainable of every sweep: one RLlib algorithm per trial, reporting each iteration and
checkpointing in edgeplace's format.

Why a function trainable rather than the RLlib Algorithm class: the trial config stays a TrainConfig
(one mapping onto RLlib, ``algos/``), every checkpoint carries ``edgeplace.json`` so
``ModulePolicy.from_checkpoint`` loads any trial's checkpoint, and the ``train.timesteps`` budget
ends a trial like ``edgeplace train``. Per-trial resources still come from RLlib: ``trial_resources``
returns the algorithm's ``default_resource_request`` (see :func:`tunable`).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ray
from ray import tune
from ray.rllib.utils.metrics import ENV_RUNNER_RESULTS, EVALUATION_RESULTS, LEARNER_RESULTS
from ray.tune.result import TIMESTEPS_TOTAL
from ray.tune.utils.util import SafeFallbackEncoder

from edgeplace.algos.checkpoints import METADATA_FILE, checkpoint_metadata, read_metadata
from edgeplace.algos.training import sampled_timesteps
from edgeplace.scenarios import get_scenario
from edgeplace.tuning.trial_config import trial_configs, trial_resources

#: Result key of the Ray node a trial's iteration ran on (several nodes may share one IP).
NODE_ID_METRIC = "node_id"
#: Result groups of an RLlib iteration that a trial reports (others are Tune's own bookkeeping).
REPORTED_GROUPS = (ENV_RUNNER_RESULTS, EVALUATION_RESULTS, LEARNER_RESULTS)
#: Groups that only some iterations produce (evaluations run every few iterations): a value that an
#: iteration lacks (absent, or None from RLlib's ``reduce="item"`` stats) is reported as its latest,
#: so a metric in them is in every result once it first appeared (Tune and its schedulers fail on a
#: result without the metric).
CARRIED_GROUPS = (EVALUATION_RESULTS,)
#: File of a trial checkpoint holding the carried groups, for the first results after a restore.
CARRIED_FILE = "carried_results.json"


def train_trial(trial_config: dict[str, Any]) -> None:
    """Train one trial until its timesteps budget (or Tune stops it), resuming from Tune's checkpoint."""
    config, algo_config = trial_configs(trial_config)
    algo = algo_config.build_algo()
    env = get_scenario(config.scenario).make_env(config.env_config)
    agent_modules = {agent: algo.config.policy_mapping_fn(agent, None) for agent in env.possible_agents}
    iteration, timesteps, wall_offset = 0, 0, 0.0
    carried: dict[str, Any] = {}
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as path:
            algo.restore_from_path(path)
            state = read_metadata(Path(path))
            carried = json.loads((Path(path) / CARRIED_FILE).read_text())
        iteration, timesteps, wall_offset = state["iteration"], state["timesteps"], state["wall_s"]
    node_id = ray.get_runtime_context().get_node_id()
    start = time.perf_counter() - wall_offset
    try:
        while timesteps < config.timesteps:
            result = algo.train()
            iteration += 1
            timesteps = sampled_timesteps(result)
            metrics = {group: result[group] for group in REPORTED_GROUPS if group in result}
            fresh = {group: metrics.pop(group) for group in CARRIED_GROUPS if group in metrics}
            carried = latest_values(carried, fresh)
            metrics.update({**carried, TIMESTEPS_TOTAL: timesteps, NODE_ID_METRIC: node_id})
            if iteration % config.checkpoint_every and timesteps < config.timesteps:
                tune.report(metrics)
                continue
            metadata = checkpoint_metadata(
                config, agent_modules, iteration, timesteps, time.perf_counter() - start
            )
            with tempfile.TemporaryDirectory() as staging:
                algo.save_to_path(staging)
                (Path(staging) / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True))
                (Path(staging) / CARRIED_FILE).write_text(json.dumps(carried, cls=SafeFallbackEncoder))
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(staging))
    finally:
        algo.stop()


def latest_values(latest: Mapping[str, Any], fresh: Mapping[str, Any]) -> dict[str, Any]:
    """The nested results ``latest`` updated with the values of ``fresh`` that are not None."""
    out = dict(latest)
    for key, value in fresh.items():
        if isinstance(value, Mapping):
            out[key] = latest_values(latest.get(key, {}), value)
        elif value is not None:
            out[key] = value
    return out


def tunable() -> Any:
    """:func:`train_trial` with per-trial resources from RLlib's ``default_resource_request``."""
    return tune.with_resources(train_trial, trial_resources)
