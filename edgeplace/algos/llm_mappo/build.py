"""Build the RLlib config of LLM-MAPPO, of its MAPPO baseline (planner ``none``) and of section f's
learned baselines (RSPPO-like, GNN-DRL, mu-DDRL-like: MAPPO with env options and model switches) from a
TrainConfig. The ablations are configurations of ``llm-mappo`` (see :data:`LEARNED_BASELINES`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeplace.algos.llm_mappo.config import LlmMappoConfig
from edgeplace.algos.llm_mappo.settings import LlmMappoSettings
from edgeplace.algos.mappo import build_ppo_config
from edgeplace.algos.train_config import ModuleSharing, TrainConfig
from edgeplace.algos.training import TrainingResult, train
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
    The ablations of section f are ``llm-mappo`` configurations: w/o TopoRAG is env ``planner_options:
    {use_traces: false}``, w/o reward shaping env ``shaping: false`` (w/o LLM is ``mappo``).

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


# --- section f's learned baselines -----------------------------------------------------------------
@dataclass(frozen=True)
class BaselineSettings:
    """What a learned baseline of section f fixes on top of MAPPO (planner ``none``, static reward)."""

    env_config: Mapping[str, Any]
    """env_config keys it sets (the planner ``none`` included)."""
    model: Mapping[str, Any]
    """model_config keys of :class:`~edgeplace.models.llm_mappo_config.LlmMappoModelConfig` it sets."""
    module_sharing: ModuleSharing = ModuleSharing.SHARED


_NO_PLANNER = {"planner": "none"}
#: Section f's learned baselines by algorithm id. The ablations are configurations of ``llm-mappo``,
#: not ids: "w/o LLM" = ``mappo``; "w/o TopoRAG" = ``llm-mappo`` with env ``planner_options.use_traces:
#: false``; "w/o reward shaping" = ``llm-mappo`` with env ``shaping: false``.
LEARNED_BASELINES = {
    "rsppo": BaselineSettings(
        env_config={**_NO_PLANNER, "autoscaler": True, "potential_shaping": True},
        model={"use_gru": False, "critic_input": "state"},
    ),
    "gnn-drl": BaselineSettings(env_config=_NO_PLANNER, model={"use_gru": False, "encoder": "sage"}),
    "mu-ddrl": BaselineSettings(
        env_config={**_NO_PLANNER, "reward_scope": "local"},
        model={"use_gru": False, "critic_input": "local", "neighbour_input": True},
        module_sharing=ModuleSharing.PER_AGENT,
    ),
}


def _forced(algo: str, what: str, given: Mapping[str, Any], forced: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` with ``forced`` set; raises ValueError naming any key the user set otherwise."""
    clash = {key: given[key] for key, value in forced.items() if key in given and given[key] != value}
    if clash:
        raise ValueError(f"{algo} sets {what} {dict(forced)}; got conflicting {clash}")
    return {**given, **forced}


def baseline_run_config(config: TrainConfig, algo: str) -> TrainConfig:
    """``config`` with the settings of the section f baseline ``algo`` (:data:`LEARNED_BASELINES`)
    applied: its env_config and model keys (a conflicting value raises, naming it) and its module
    sharing (forced: ``mu-ddrl`` is independent PPO, one module per agent, whatever ``--sharing``
    says)."""
    settings = LEARNED_BASELINES[algo]
    return config.replace(
        env_config=_forced(algo, "env_config", config.env_config, settings.env_config),
        model=_forced(algo, "model", config.model, settings.model),
        module_sharing=settings.module_sharing
        if settings.module_sharing is ModuleSharing.PER_AGENT
        else config.module_sharing,
    )


def build_baseline_config(config: TrainConfig, algo: str) -> LlmMappoConfig:
    """A section f baseline: MAPPO (:func:`build_mappo_config`, planner ``none``, the static Eq. 20
    reward, the same learner) with :func:`baseline_run_config`'s settings.

    Raises:
        ValueError: a setting conflicts with the baseline's (e.g. a planner, or ``use_gru: true``).
    """
    return build_llm_mappo_config(baseline_run_config(config, algo), guided=False)


def build_rsppo_config(config: TrainConfig) -> LlmMappoConfig:
    """RSPPO-like: shared PPO, MLP agent (no GRU), centralised critic on ``state``; env ``autoscaler``
    and ``potential_shaping`` on."""
    return build_baseline_config(config, "rsppo")


def build_gnn_drl_config(config: TrainConfig) -> LlmMappoConfig:
    """GNN-DRL: shared PPO, GraphSAGE encoders (``encoder: sage``: the region's option graph and the DAG
    slots) under the pointer head, no GRU."""
    return build_baseline_config(config, "gnn-drl")


def build_mu_ddrl_config(config: TrainConfig) -> LlmMappoConfig:
    """mu-DDRL-like: independent PPO (one module per agent), local critic on ``region`` and
    ``neighbour_regions``, the actor fusing ``neighbour_regions``, no GRU; env ``reward_scope: local``."""
    return build_baseline_config(config, "mu-ddrl")


def train_baseline(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    on_iteration: Callable[[dict[str, float]], None] | None = None,
) -> TrainingResult:
    """One RLlib run of a section f baseline with its settings in the TrainConfig, so that the
    checkpoints' metadata records the env options (autoscaler, reward scope) the policy trained on."""
    return train(baseline_run_config(config, config.algo), run_dir, resume=resume, on_iteration=on_iteration)
