"""Build the RLlib config of a HISPER preset (``hisper``, ``hasac``, ``hisper-noHRA``, ``hisper-noAR``)
or of HAPPO from a :class:`~edgeplace.algos.train_config.TrainConfig`.

Mapping: ``timesteps`` is the training loop's budget in agent decisions (joint steps x agents);
``seed``, ``env_config``, ``num_gpus_per_learner``, ``num_env_runners`` and ``num_learners`` carry over
(the config's ``validate()`` accepts only 0 for the last two); ``model`` may override the network
widths (:data:`MODEL_KEYS`); ``algo_options`` may set any field of the algorithm's settings
(:class:`HISPERSettings`, :class:`HAPPOSettings`) plus the RLlib fields in :data:`RLLIB_OPTIONS`.
TrainConfig's PPO fields (:data:`~edgeplace.algos.train_config.PPO_FIELDS`: lr, minibatch, epochs, ...)
do not apply: a run that sets any of them is rejected, naming them.
Both have one actor per agent (spec e, no parameter sharing), whatever ``module_sharing`` says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.tune.registry import register_env

from edgeplace.algos.hisper.config import HISPERConfig, preset_config
from edgeplace.algos.hisper.happo_config import HAPPOConfig
from edgeplace.algos.mappo import per_agent_policy_mapping
from edgeplace.algos.train_config import PPO_FIELDS, TrainConfig
from edgeplace.scenarios import get_scenario

#: ``TrainConfig.model`` keys: the network widths of HISPERSettings.
MODEL_KEYS = ("embed_dim", "actor_hidden", "critic_hidden", "lstm_hidden")
#: ``TrainConfig.algo_options`` keys that set RLlib's own AlgorithmConfig fields (HISPER also takes
#: ``train_batch_size_per_learner``, its batch of joint transitions per update).
RLLIB_OPTIONS = ("gamma", "num_envs_per_env_runner")


def build_hisper_config(config: TrainConfig, preset: str = "hisper") -> HISPERConfig:
    """The HISPERConfig of a run: ``preset``'s switches, then ``config.model`` and ``config.algo_options``."""
    settings, rllib = _split_options(config, preset, ("train_batch_size_per_learner", *RLLIB_OPTIONS))
    algo_config = _with_run_settings(preset_config(preset, **settings), config, rllib)
    return algo_config.training(train_batch_size_per_learner=rllib.get("train_batch_size_per_learner", 1000))


def build_happo_config(config: TrainConfig) -> HAPPOConfig:
    """The HAPPOConfig of a run: the spec's settings, then ``config.model`` and ``config.algo_options``."""
    settings, rllib = _split_options(config, "happo", RLLIB_OPTIONS)
    return _with_run_settings(HAPPOConfig().happo(**settings), config, rllib)


AlgoConfigT = TypeVar("AlgoConfigT", bound=AlgorithmConfig)


def _split_options(
    config: TrainConfig, name: str, rllib_keys: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(algorithm settings, RLlib fields) from ``config.model`` and ``config.algo_options``.

    Raises:
        ValueError: ``config`` sets TrainConfig's PPO fields, or unknown model keys.
    """
    ignored = config.changed_fields(PPO_FIELDS)
    if ignored:
        raise ValueError(
            f"{name} does not read TrainConfig's PPO fields {ignored}; set its own settings in "
            f"algo_options (learning rates, gamma, train_batch_size_per_learner, num_envs_per_env_runner)"
        )
    unknown = sorted(set(config.model) - set(MODEL_KEYS))
    if unknown:
        raise ValueError(f"{name}: unknown model keys {unknown}; known: {list(MODEL_KEYS)}")
    options: Mapping[str, Any] = config.algo_options
    rllib = {key: options[key] for key in rllib_keys if key in options}
    return {**config.model, **{k: v for k, v in options.items() if k not in rllib_keys}}, rllib


def _with_run_settings(
    algo_config: AlgoConfigT, config: TrainConfig, rllib: Mapping[str, Any]
) -> AlgoConfigT:
    """Env, agents, seed, device and the shared RLlib fields of a run."""
    scenario = get_scenario(config.scenario)
    register_env(config.scenario, scenario.make_env)
    agents = list(scenario.make_env(config.env_config).possible_agents)
    return (
        algo_config.environment(
            config.scenario, env_config=dict(config.env_config), disable_env_checking=True
        )
        .multi_agent(policies=set(agents), policy_mapping_fn=per_agent_policy_mapping)
        .env_runners(
            num_env_runners=config.num_env_runners,  # validate() names any but 0: nothing else starts
            num_envs_per_env_runner=rllib.get("num_envs_per_env_runner", 20),
        )
        .learners(num_learners=config.num_learners, num_gpus_per_learner=config.num_gpus_per_learner)
        .training(gamma=rllib.get("gamma", 0.95))
        .reporting(metrics_num_episodes_for_smoothing=100)
        .debugging(seed=config.seed)
    )
