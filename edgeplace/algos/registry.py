"""Algorithm ids -> RLlib AlgorithmConfig builders; registers every scenario as an RLlib env."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.tune.registry import register_env

from edgeplace.algos.agentvne.settings import AGENTVNE_TRAIN_DEFAULTS, FINETUNE_DIR, PRETRAIN_OPTIONS
from edgeplace.algos.hisper.settings import PRESETS as HISPER_PRESETS
from edgeplace.algos.mappo import build_ppo_config
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.vamappo.build import build_vamappo_config
from edgeplace.algos.vamappo.settings import PRESETS as VAMAPPO_PRESETS
from edgeplace.envs.registry import scenarios

if TYPE_CHECKING:
    from edgeplace.algos.training import TrainingResult


def build_agentvne_config(config: TrainConfig) -> AlgorithmConfig:
    """AgentVNE fine-tuning; imported on use (its model pulls in torch-geometric, ~2.5 s at start-up)."""
    from edgeplace.algos.agentvne.build import build_agentvne_config as build

    return build(config)


def train_agentvne_stages(config: TrainConfig, run_dir: Path, **kwargs: Any) -> TrainingResult:
    """AgentVNE's two stages (NodeRank pre-training into RUN/pretrain, PPO fine-tuning into
    RUN/finetune); imported on use like its config builder."""
    from edgeplace.algos.agentvne.stages import train_agentvne

    return train_agentvne(config, run_dir, **kwargs)


def pretrain_agentvne_stage(config: TrainConfig, run_dir: Path) -> TrainConfig:
    """AgentVNE's NodeRank pre-training into RUN/pretrain; returns the fine-tuning config (imported
    on use like its config builder)."""
    from edgeplace.algos.agentvne.stages import pretrain_stage

    return pretrain_stage(config, run_dir)


def build_hisper_config(config: TrainConfig, preset: str) -> AlgorithmConfig:
    """A HISPER-family preset; imported on use like AgentVNE."""
    from edgeplace.algos.hisper.build import build_hisper_config as build

    return build(config, preset)


def build_happo_config(config: TrainConfig) -> AlgorithmConfig:
    """HAPPO; imported on use like AgentVNE."""
    from edgeplace.algos.hisper.build import build_happo_config as build

    return build(config)


def build_metappo_config(config: TrainConfig) -> AlgorithmConfig:
    """METAPPO (VAMAPPO spec f): MAPPO trained in the env with load-aware reward and task migration."""
    return build_ppo_config(config.replace(env_config={**config.env_config, **METAPPO_ENV}))


#: The env settings METAPPO trains and is evaluated with.
METAPPO_ENV = {"load_aware_migration": True}


@dataclass(frozen=True)
class Preparation:
    """The stages of an algorithm that run before its RLlib run (AgentVNE: NodeRank pre-training). A
    sweep runs them once, with its fixed config, and starts every trial from their output."""

    run: Callable[[TrainConfig, Path], TrainConfig]
    """Runs the stages into a run directory (resuming what is there) and returns the RLlib run's config."""
    inputs: tuple[str, ...]
    """The TrainConfig keys they read (``env_config``, ``algo_options.FIELD``): a sweep cannot search them."""


@dataclass(frozen=True)
class Algorithm:
    """An algorithm id's RLlib config builder, the scenarios it trains, and whether it takes
    ``algo_options`` (those that do validate them when the config is built)."""

    build: Callable[[TrainConfig], AlgorithmConfig]
    scenarios: tuple[str, ...]
    takes_options: bool = True
    train_defaults: Mapping[str, Any] = field(default_factory=dict)
    """TrainConfig values the algorithm's spec prescribes (the command line's options override them)."""
    trainer: Callable[..., TrainingResult] | None = None
    """Runs the whole training (``(config, run_dir, resume=, on_iteration=)``); None: one RLlib run."""
    rllib_subdir: str = ""
    """Where in the run directory ``trainer`` puts its RLlib run (checkpoints, metrics)."""
    preparation: Preparation | None = None
    """The stages ``trainer`` runs before the RLlib run (None: it has none)."""


_GENAI, _VNE, _DNN = ("genai-chain",), ("agent-vne",), ("dnn-inference",)
_ALGORITHMS: dict[str, Algorithm] = {
    "mappo": Algorithm(build_ppo_config, _GENAI, takes_options=False),
    "metappo": Algorithm(build_metappo_config, _GENAI, takes_options=False),
    **{name: Algorithm(partial(build_vamappo_config, preset=name), _GENAI) for name in VAMAPPO_PRESETS},
    "agentvne": Algorithm(
        build_agentvne_config,
        _VNE,
        train_defaults={k: v for k, v in AGENTVNE_TRAIN_DEFAULTS.items() if k not in ("scenario", "algo")},
        trainer=train_agentvne_stages,
        rllib_subdir=FINETUNE_DIR,
        preparation=Preparation(
            pretrain_agentvne_stage,
            ("env_config", "model", *(f"algo_options.{name}" for name in PRETRAIN_OPTIONS)),
        ),
    ),
    **{name: Algorithm(partial(build_hisper_config, preset=name), _DNN) for name in HISPER_PRESETS},
    "happo": Algorithm(build_happo_config, _DNN),
}


def algorithm_names() -> list[str]:
    return sorted(_ALGORITHMS)


def algorithms_for(scenario_id: str) -> list[str]:
    """Ids of the algorithms that train ``scenario_id``."""
    return [name for name in algorithm_names() if scenario_id in _ALGORITHMS[name].scenarios]


def algorithm_train_defaults(algo: str) -> dict[str, Any]:
    """The TrainConfig values ``algo`` prescribes (empty for PPO-family defaults)."""
    return dict(_algorithm(algo).train_defaults)


def _algorithm(algo: str) -> Algorithm:
    if algo not in _ALGORITHMS:
        raise KeyError(f"unknown algorithm {algo!r}; known: {algorithm_names()}")
    return _ALGORITHMS[algo]


def run_training(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    on_iteration: Callable[[dict[str, float]], None] | None = None,
) -> TrainingResult:
    """Train ``config`` into ``run_dir`` the way its algorithm trains (one RLlib run, or its stages)."""
    from edgeplace.algos.training import train

    trainer = _algorithm(config.algo).trainer or train
    return trainer(config, Path(run_dir), resume=resume, on_iteration=on_iteration)


def algorithm_preparation(algo: str) -> Preparation | None:
    """The stages ``algo`` runs before its RLlib run, or None."""
    return _algorithm(algo).preparation


def rllib_run_dir(algo: str, run_dir: str | Path) -> Path:
    """The directory of ``algo``'s RLlib run (checkpoints, metrics CSV) inside ``run_dir``."""
    return Path(run_dir) / _algorithm(algo).rllib_subdir


def register_rllib_envs() -> None:
    """Register each scenario with RLlib under its id (idempotent)."""
    for scenario in scenarios():
        register_env(scenario.scenario_id, scenario.make_env)


def build_algorithm_config(config: TrainConfig) -> AlgorithmConfig:
    """The RLlib config of a run; the error names the known algorithms."""
    algorithm = _algorithm(config.algo)
    if config.algo_options and not algorithm.takes_options:
        raise ValueError(f"{config.algo} takes no algo_options, got {dict(config.algo_options)}")
    if config.scenario not in algorithm.scenarios:
        fitting = algorithms_for(config.scenario)
        raise ValueError(
            f"algorithm {config.algo!r} does not train scenario {config.scenario!r}; "
            f"algorithms for it: {fitting or 'none yet'}"
        )
    register_rllib_envs()
    return algorithm.build(config)
