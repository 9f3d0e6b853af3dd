"""``edgeplace train agent-vne --algo agentvne``: NodeRank pre-training, then PPO fine-tuning from the
best pre-trained network. Each stage resumes: the pre-training keeps its dataset and checkpoints in
``RUN/pretrain``, the fine-tuning is an ordinary edgeplace run in ``RUN/finetune``. A sweep runs the
pre-training once and fine-tunes every trial from its network (``edgeplace tune``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edgeplace.algos.agentvne.pretrain import PretrainConfig
from edgeplace.algos.agentvne.settings import FINETUNE_DIR, PRETRAIN_DIR, AgentVNESettings
from edgeplace.algos.agentvne.similarity_task import pretrain_agentvne
from edgeplace.algos.checkpoints import latest_checkpoint
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import TrainingResult, train
from edgeplace.envs.agent_vne import AgentVNEConfig
from edgeplace.models.similarity_config import SimilarityConfig
from edgeplace.torch_threads import torch_threads


def pretrain_stage(config: TrainConfig, run_dir: str | Path) -> TrainConfig:
    """Pre-train into ``RUN/pretrain`` (skipped when it already holds its final checkpoint, or when
    ``algo_options.pretrained`` names a network) and return the fine-tuning config, which starts from
    the best pre-trained network. The network has the sizes of ``config.model``."""
    settings = AgentVNESettings.from_options(config.algo_options)
    if settings.pretrained is not None:
        return config
    with torch_threads(1):  # batches of 16 in the driver: a second thread only spins (torch_threads)
        pretrained = pretrain_agentvne(
            config.env_config,
            Path(run_dir) / PRETRAIN_DIR,
            PretrainConfig(epochs=settings.pretrain_epochs, seed=config.seed),
            SimilarityConfig.from_model_config(config.model),
            episodes=settings.pretrain_episodes,
            arrivals=settings.pretrain_arrivals,
            rates=settings.arrival_rates or (AgentVNEConfig.from_env_config(config.env_config).arrival_rate,),
            resume=True,
            show_progress=True,
        )
    return config.replace(algo_options={**config.algo_options, "pretrained": str(pretrained.best_path)})


def train_agentvne(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    on_iteration: Callable[[dict[str, float]], None] | None = None,
) -> TrainingResult:
    """Pre-train (see :func:`pretrain_stage`), then fine-tune; ``resume`` continues the fine-tuning
    from its latest checkpoint."""
    run_dir = Path(run_dir)
    finetune = pretrain_stage(config, run_dir)
    finetune_dir = run_dir / FINETUNE_DIR
    resume_finetune = resume and latest_checkpoint(finetune_dir) is not None
    return train(finetune, finetune_dir, resume=resume_finetune, on_iteration=on_iteration)
