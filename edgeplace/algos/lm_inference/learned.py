"""The ``learned`` backend's RLlib config (spec d, "Modules" and "Training"): PPO on the multi-rate env
with the modules ``planner``, ``scheduler``, ``deployer_cpu`` (VM2), ``deployer_1gpu`` (VM3-6, shared
weights) and ``deployer_2gpu`` (VM7), each a :class:`MaskedMlpModule` whose critic also reads
``global_state``.

PPO settings come from the run's :class:`TrainConfig` (lr 3e-4, clip 0.2, GAE 0.95, 10 epochs per
batch; minibatch 256 is the scenario spec's default for the algorithm), with the entropy coefficient
annealed to a tenth over the budget (0.01 -> 0.001). The planner learns at lr 1e-4 and discounts with
gamma 0.9 per epoch (RLlib's ``algorithm_config_overrides_per_module``; the discount honoured by
:class:`PerModuleGammaPPOLearner`). The options (:class:`LearnedSettings`) choose the reward mode and
the modules a run starts from; agents the env config scripts have no module.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from edgeplace.algos.checkpoints import MODULE_SUBDIR
from edgeplace.algos.kpi_callback import KPICallback
from edgeplace.algos.lm_inference.cohort_retimed import with_reward_mode
from edgeplace.algos.lm_inference.learner import PerModuleGammaPPOLearner
from edgeplace.algos.lm_inference.settings import LearnedSettings
from edgeplace.algos.mappo import ppo_training_settings
from edgeplace.algos.multi_rate_callback import ZeroStepCounts
from edgeplace.algos.train_config import TrainConfig
from edgeplace.envs.lm_inference.agents import PLANNER, SCHEDULER, deployer_ids, hardware_profiles
from edgeplace.envs.lm_inference.config import LmInferenceConfig
from edgeplace.envs.lm_inference.observation import (
    DEPLOYER_INPUTS,
    PLANNER_INPUTS,
    SCHEDULER_INPUTS,
    LmObs,
)
from edgeplace.models.masked_mlp_module import MaskedMlpModule

DEPLOYER_MODULE_PREFIX = "deployer_"
#: Per-module PPO settings over the run's (spec d, "Training"; gamma per epoch for the planner).
MODULE_OVERRIDES: Mapping[str, Mapping[str, float]] = MappingProxyType({PLANNER: {"lr": 1e-4, "gamma": 0.9}})
ENTROPY_DECAY = 0.1
"""The entropy coefficient ends at this fraction of its start."""


class AgentModules:
    """The policy mapping: agent id -> module id (a picklable callable for RLlib)."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.mapping = dict(mapping)

    def __call__(self, agent_id: str, episode: object = None, **kwargs: object) -> str:
        return self.mapping[agent_id]


def agent_modules(env_config: Mapping[str, Any] | LmInferenceConfig | None) -> dict[str, str]:
    """Agent id -> module id of the agents that learn (all but the env config's ``scripted_agents``):
    the planner and the scheduler have their own, each deployer its node's hardware profile's
    (``deployer_cpu``, ``deployer_1gpu``, ``deployer_2gpu``)."""
    config = LmInferenceConfig.from_env_config(env_config)
    cluster = config.cluster()
    profiles = hardware_profiles(cluster)
    deployers = {
        agent: f"{DEPLOYER_MODULE_PREFIX}{profile}"
        for agent, profile in zip(deployer_ids(cluster), profiles, strict=True)
    }
    every = {PLANNER: PLANNER, SCHEDULER: SCHEDULER, **deployers}
    return {agent: module for agent, module in every.items() if agent not in config.scripted_agents}


def module_model_config(module_id: str, model: Mapping[str, Any]) -> dict[str, Any]:
    """The ``model_config`` of a module: its inputs (actor: the agent's own features; critic: those and
    ``global_state``) and the run's ``model`` settings (``hidden``)."""
    inputs = {PLANNER: PLANNER_INPUTS, SCHEDULER: SCHEDULER_INPUTS}.get(module_id, DEPLOYER_INPUTS)
    actor = [str(key) for key in inputs]
    return {**model, "actor_inputs": actor, "critic_inputs": [*actor, str(LmObs.GLOBAL_STATE)]}


def initial_state_path(initial_modules: str | None, module_id: str) -> str | None:
    """Where module ``module_id`` starts from: its state in the checkpoint ``initial_modules``, or None
    (fresh weights) when there is no such checkpoint or it has no such module."""
    if initial_modules is None:
        return None
    path = Path(initial_modules) / MODULE_SUBDIR / module_id
    return str(path) if path.is_dir() else None


def build_learned_config(config: TrainConfig) -> PPOConfig:
    """The PPOConfig of a ``learned`` run (env registered under the scenario id).

    Raises:
        ValueError: bad options (:class:`LearnedSettings`), or an ``initial_modules`` that is not a
            checkpoint directory.
    """
    settings = LearnedSettings.from_options(config.algo_options)
    if settings.initial_modules is not None and not (Path(settings.initial_modules) / MODULE_SUBDIR).is_dir():
        raise ValueError(f"learned.initial_modules: {settings.initial_modules} holds no RLlib modules")
    mapping = agent_modules(config.env_config)
    specs = {
        module_id: RLModuleSpec(
            module_class=MaskedMlpModule,
            model_config=module_model_config(module_id, config.model),
            load_state_path=initial_state_path(settings.initial_modules, module_id),
        )
        for module_id in sorted(set(mapping.values()))
    }
    training = ppo_training_settings(config)
    training["entropy_coeff"] = [
        [0, config.entropy_coeff],
        [config.timesteps, config.entropy_coeff * ENTROPY_DECAY],
    ]
    ppo = (
        PPOConfig()
        .environment(config.scenario, env_config=dict(config.env_config), disable_env_checking=True)
        .multi_agent(
            policies=set(specs),
            policy_mapping_fn=AgentModules(mapping),
            count_steps_by="agent_steps",
        )
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(rl_module_specs=specs),
            algorithm_config_overrides_per_module={mid: dict(v) for mid, v in MODULE_OVERRIDES.items()},
        )
        .env_runners(
            num_env_runners=config.num_env_runners, num_envs_per_env_runner=config.num_envs_per_env_runner
        )
        .learners(
            num_learners=config.num_learners,
            num_gpus_per_learner=config.num_gpus_per_learner,
            learner_class=PerModuleGammaPPOLearner,
        )
        .training(**training)
        .callbacks([KPICallback, ZeroStepCounts])
        .debugging(seed=config.seed)
        .reporting(metrics_num_episodes_for_smoothing=100)
    )
    return with_reward_mode(ppo, settings.reward_mode)
