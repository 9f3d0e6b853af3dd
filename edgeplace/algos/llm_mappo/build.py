"""Build the RLlib config of LLM-MAPPO, or of its MAPPO baseline (planner ``none``), from a TrainConfig."""

from __future__ import annotations

from typing import Any

from edgeplace.algos.llm_mappo.config import LlmMappoConfig
from edgeplace.algos.llm_mappo.settings import LlmMappoSettings
from edgeplace.algos.mappo import build_ppo_config
from edgeplace.algos.train_config import TrainConfig
from edgeplace.envs.metaverse_dag.config import K_MAX, MetaverseDagConfig
from edgeplace.envs.metaverse_dag.observation import RegionCol

#: The planner of an ``llm-mappo`` run whose env config names none.
DEFAULT_PLANNER = "memory"
#: The model switches that need a planner (off in MAPPO).
GUIDANCE_SWITCHES = ("prior_logits", "plan_input")


def build_llm_mappo_config(config: TrainConfig, *, guided: bool = True) -> LlmMappoConfig:
    """LLM-MAPPO (``guided``: the env's planner, ``memory`` unless the env config names one, with every
    mechanism on) or MAPPO (planner ``none``; prior logits, plan input and the KL term off).

    ``config.algo_options`` are :class:`LlmMappoSettings` over these; ``config.model`` sets the module.
    The entropy coefficient (and, with ``lr_decay``, the learning rates) decay linearly over the budget:
    ``timesteps`` agent decisions, i.e. ``timesteps / K`` env steps on RLlib's schedule clock
    (``NUM_ENV_STEPS_SAMPLED_LIFETIME``).

    Raises:
        ValueError: MAPPO asked for a guidance mechanism (``prior_kl`` or a model switch).
    """
    env_config = dict(config.env_config)
    model = {"agent_slots": K_MAX, "kappa_column": int(RegionCol.KAPPA), **config.model}
    settings: dict[str, Any] = dict(config.algo_options)
    if guided:
        env_config.setdefault("planner", DEFAULT_PLANNER)
    else:
        asked = [key for key in GUIDANCE_SWITCHES if model.get(key)] + (
            ["prior_kl"] if settings.get("prior_kl") else []
        )
        if asked:
            raise ValueError(f"mappo runs without a planner: {asked} cannot be on (use llm-mappo)")
        env_config["planner"] = "none"
        model.update(dict.fromkeys(GUIDANCE_SWITCHES, False))
        settings["prior_kl"] = False
    env = MetaverseDagConfig.from_env_config(env_config)
    settings.setdefault("episode_steps", env.horizon)
    base = LlmMappoConfig().llm_mappo(**settings)
    chosen = LlmMappoSettings.from_dict(base.llm_mappo_settings)
    budget_env_steps = max(1, -(-config.timesteps // env.num_regions))
    entropy = [[0, chosen.entropy_start], [budget_env_steps, chosen.entropy_end]]
    schedules: dict[str, Any] = {"entropy_coeff": entropy}
    if config.lr_decay:  # build_ppo_config's decay ends at ``timesteps`` on RLlib's env-step clock
        schedules["lr"] = [[0, config.lr], [budget_env_steps, 0.0]]
    run = config.replace(env_config=env_config, model=model)
    return build_ppo_config(run, base=base).training(**schedules, vf_clip_param=10.0)


def build_mappo_config(config: TrainConfig) -> LlmMappoConfig:
    """MAPPO on metaverse-dag: :func:`build_llm_mappo_config` without the planner."""
    return build_llm_mappo_config(config, guided=False)
