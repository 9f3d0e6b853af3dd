"""The random-policy reference the planner observes (spec g11: ``baseline``), and the env factory that
gives it to the env.

The reference is the uniform macro-policy with the rule tier 2 (JSQ scheduler, role-enacting
deployer), run for 4 epochs on seed 0 and measured like an episode (first epoch warm-up, a drain of
the env's drain slots, at most one epoch). It is computed once per process and configuration (a few
seconds); the env cannot compute it itself, since envs do not import the rule controllers.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from edgeplace.algos.baselines.lm_inference.hierarchies import make_hierarchy
from edgeplace.algos.baselines.lm_inference.policies import HierarchyPolicy
from edgeplace.envs.lm_inference.config import LmInferenceConfig
from edgeplace.envs.lm_inference.env import LmInferenceEnv
from edgeplace.envs.lm_inference.episode import run_episode
from edgeplace.envs.lm_inference.epoch_summary import kpi_features
from edgeplace.envs.scripted_agents import ScriptedAgentsEnv

REFERENCE = "reference"
"""The reference's controller (:data:`~edgeplace.algos.baselines.lm_inference.hierarchies.HIERARCHIES`)."""
REFERENCE_EPOCHS = 4
REFERENCE_SEED = 0


@functools.cache
def reference_features(topology: str, hardware_seed: int, epoch_slots: int, drain_slots: int) -> np.ndarray:
    """The reference's KPI features (:func:`kpi_features`). Shapes: (2 I + 3,) float64, read-only."""
    config = LmInferenceConfig(
        topology=topology,
        hardware_seed=hardware_seed,
        epochs=REFERENCE_EPOCHS,
        epoch_slots=epoch_slots,
        drain_slots=min(drain_slots, epoch_slots),
    )
    cluster, params = config.cluster(), config.params
    hierarchy = make_hierarchy(REFERENCE, cluster, params, REFERENCE_SEED)
    _, result = run_episode(cluster, hierarchy, REFERENCE_SEED, config.run_spec, params)
    features = kpi_features(result.kpis, params.deadline_s)
    features.setflags(write=False)
    return features


def make_env(
    env_config: Mapping[str, Any] | LmInferenceConfig | None = None,
) -> LmInferenceEnv | ScriptedAgentsEnv:
    """The lm-inference env of ``env_config`` (the scenario's env factory); the agents it names in
    ``scripted_agents`` are played inside the env by the reference's controller."""
    config = LmInferenceConfig.from_env_config(env_config)
    reference = reference_features(
        config.topology, config.hardware_seed, config.epoch_slots, config.drain_slots
    )
    env = LmInferenceEnv(config, reference)
    if not config.scripted_agents:
        return env
    script = HierarchyPolicy(REFERENCE, REFERENCE_SEED, config)
    return ScriptedAgentsEnv(env, dict.fromkeys(config.scripted_agents, script))
