"""``edgeplace train agent-vne --algo agentvne``: pre-training then fine-tuning, each resumable."""

from __future__ import annotations

from edgeplace.algos.agentvne.settings import FINETUNE_DIR, PRETRAIN_DIR, agentvne_train_config
from edgeplace.algos.checkpoints import latest_checkpoint, read_metadata
from edgeplace.algos.registry import rllib_run_dir, run_training
from edgeplace.algos.train_config import TrainConfig

TINY = {
    "pretrain_episodes": 2, "pretrain_arrivals": 6, "pretrain_epochs": 2, "value_warmup_updates": 0,
    "arrival_rates": [0.2],
}  # fmt: skip


def tiny_agentvne_config(timesteps: int) -> TrainConfig:
    return agentvne_train_config(**{
        "timesteps": timesteps, "train_batch_size": 20,
        "minibatch_size": 10, "num_epochs": 1, "num_envs_per_env_runner": 1, "checkpoint_every": 1,
        "env_config": {"topology": "waxman:nodes=12,seed=1", "arrivals_per_episode": 10},
        "algo_options": TINY,
    })  # fmt: skip


def test_rllib_runs_of_staged_algorithms_live_in_their_stage_directory(tmp_path):
    assert rllib_run_dir(tiny_agentvne_config(20), tmp_path) == tmp_path / FINETUNE_DIR
    assert rllib_run_dir(TrainConfig(scenario="genai-chain", algo="mappo"), tmp_path) == tmp_path


def test_pretrains_then_finetunes_from_the_best_network_and_resumes(ray_session, tmp_path):
    first = run_training(tiny_agentvne_config(20), tmp_path)  # the registry runs AgentVNE's two stages
    best = tmp_path / PRETRAIN_DIR / "best.pt"
    assert best.is_file() and first.checkpoint == latest_checkpoint(tmp_path / FINETUNE_DIR)
    options = read_metadata(first.checkpoint)["train_config"]["algo_options"]
    assert options["pretrained"] == str(best)
    stamp = best.stat().st_mtime_ns
    resumed = run_training(tiny_agentvne_config(40), tmp_path, resume=True)
    assert resumed.iterations == first.iterations + 1
    assert best.stat().st_mtime_ns == stamp  # the finished pre-training is not redone
