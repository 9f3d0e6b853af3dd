"""MAPPO on RLlib's new API stack: PPO with the scenario's agents mapped to shared or per-agent
placement modules (configured, not rewritten)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec

from edgeplace.algos.kpi_callback import KPICallback
from edgeplace.algos.registry import module_spec_builder
from edgeplace.algos.train_config import SHARED_MODULE_ID, ModuleSharing, TrainConfig
from edgeplace.scenarios import get_scenario


def shared_policy_mapping(agent_id: str, episode: object = None, **kwargs: object) -> str:
    """Every agent acts with the one shared module."""
    return SHARED_MODULE_ID


def per_agent_policy_mapping(agent_id: str, episode: object = None, **kwargs: object) -> str:
    """Each agent acts with its own module, named after it."""
    return agent_id


def module_ids(config: TrainConfig, agent_ids: list[str]) -> dict[str, str]:
    """Agent id -> module id for the run's sharing mode."""
    mapping = (
        shared_policy_mapping if config.module_sharing is ModuleSharing.SHARED else per_agent_policy_mapping
    )
    return {agent: mapping(agent) for agent in agent_ids}


def ppo_training_settings(config: TrainConfig) -> dict[str, Any]:
    """``PPOConfig.training`` keywords of a run: batch sizes, epochs, the learning rate (linearly decayed
    to 0 over the budget when ``lr_decay``), discount, GAE lambda, loss coefficients and clipping."""
    lr: float | list[list[float]] = config.lr
    if config.lr_decay:
        lr = [[0, config.lr], [config.timesteps, 0.0]]
    return {
        "train_batch_size_per_learner": config.train_batch_size,
        "minibatch_size": config.minibatch_size,
        "num_epochs": config.num_epochs,
        "lr": lr,
        "gamma": config.gamma,
        "lambda_": config.gae_lambda,
        "entropy_coeff": config.entropy_coeff,
        "vf_loss_coeff": config.vf_loss_coeff,
        "clip_param": config.clip_param,
        "grad_clip": config.grad_clip,
    }


def build_ppo_config(
    config: TrainConfig, base: PPOConfig | None = None, model_defaults: Mapping[str, Any] | None = None
) -> PPOConfig:
    """The PPOConfig of a MAPPO run (env registered under the scenario id), with the module spec that
    the run's AlgorithmSpec declares for its scenario's observations.

    ``base`` is the config object to fill (default a plain PPOConfig; VAMAPPO passes its subclass);
    ``model_defaults`` are model settings of an algorithm preset, under ``config.model``'s.
    """
    scenario = get_scenario(config.scenario)
    module_spec = module_spec_builder(config)
    model = {**(model_defaults or {}), **config.model}
    agent_ids = list(scenario.make_env(config.env_config).possible_agents)
    agent_modules = module_ids(config, agent_ids)
    mapping_fn = (
        shared_policy_mapping if config.module_sharing is ModuleSharing.SHARED else per_agent_policy_mapping
    )
    return (
        (base or PPOConfig())
        .environment(config.scenario, env_config=dict(config.env_config), disable_env_checking=True)
        .multi_agent(
            policies=set(agent_modules.values()),
            policy_mapping_fn=mapping_fn,
            count_steps_by="agent_steps",
        )
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(
                rl_module_specs={mid: module_spec(model) for mid in set(agent_modules.values())}
            )
        )
        .env_runners(
            num_env_runners=config.num_env_runners,
            num_envs_per_env_runner=config.num_envs_per_env_runner,
        )
        .learners(num_learners=config.num_learners, num_gpus_per_learner=config.num_gpus_per_learner)
        .training(**ppo_training_settings(config))
        .callbacks(KPICallback)
        .debugging(seed=config.seed)
        .reporting(metrics_num_episodes_for_smoothing=100)
    )
