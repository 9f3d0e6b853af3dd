"""``build_agentvne_config``: AgentVNE fine-tuning as an RLlib PPOConfig (papers/agentvne.md, section f).

One shared :class:`~edgeplace.algos.agentvne.module.AgentVNEModule` for the ``embedder`` agent, the
AgentVNE learner (separate policy / value optimisers, value warm-up), the env's reward (Eq.25: -H after
a commit, -P_fail on rejection), lambda randomised per episode, and the spec-f hyperparameters taken
from the TrainConfig (see :data:`~edgeplace.algos.agentvne.settings.AGENTVNE_TRAIN_DEFAULTS`).
"""

from __future__ import annotations

from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec

from edgeplace.algos.agentvne.learner import PRETRAINED, VALUE_LR, VALUE_WARMUP_UPDATES, AgentVNELearner
from edgeplace.algos.agentvne.module import agentvne_module_spec
from edgeplace.algos.agentvne.settings import AgentVNESettings
from edgeplace.algos.agentvne.traffic import ARRIVAL_RATES_KEY, ArrivalRateCallback
from edgeplace.algos.mappo import ppo_training_settings, shared_policy_mapping
from edgeplace.algos.train_config import SHARED_MODULE_ID, ModuleSharing, TrainConfig

#: PPO's value clipping would cut the -P_fail = -100 returns; the spec clips only the policy ratio.
VF_CLIP = 1e6


def build_agentvne_config(config: TrainConfig) -> PPOConfig:
    """The PPOConfig of an AgentVNE fine-tuning run (env registered under ``config.scenario``)."""
    if config.module_sharing is not ModuleSharing.SHARED:
        raise ValueError("agentvne has a single agent; use the shared module")
    settings = AgentVNESettings.from_options(config.algo_options)
    model = {
        "env_config": dict(config.env_config),
        "restarts": settings.restarts,
        "dropout": 0.0,  # exact PPO ratios: the sampling and the train passes must agree
        **config.model,
    }
    return (
        PPOConfig()
        .environment(config.scenario, env_config=dict(config.env_config), disable_env_checking=True)
        .multi_agent(
            policies={SHARED_MODULE_ID}, policy_mapping_fn=shared_policy_mapping, count_steps_by="agent_steps"
        )
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(rl_module_specs={SHARED_MODULE_ID: agentvne_module_spec(model)})
        )
        .env_runners(
            num_env_runners=config.num_env_runners, num_envs_per_env_runner=config.num_envs_per_env_runner
        )
        .learners(
            num_learners=config.num_learners,
            num_gpus_per_learner=config.num_gpus_per_learner,
            learner_class=AgentVNELearner,
            learner_config_dict={
                PRETRAINED: settings.pretrained,
                VALUE_LR: settings.value_lr,
                VALUE_WARMUP_UPDATES: settings.value_warmup_updates,
                ARRIVAL_RATES_KEY: settings.arrival_rates,
            },
        )
        .training(**ppo_training_settings(config), vf_clip_param=VF_CLIP, use_kl_loss=False)
        .callbacks(ArrivalRateCallback)
        .debugging(seed=config.seed)
        .reporting(metrics_num_episodes_for_smoothing=100)
    )
