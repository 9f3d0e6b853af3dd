"""The smoke sweeps of the agent-vne, dnn-inference and lm-inference scenarios on the test cluster:
AgentVNE's trials fine-tune from one pre-training run before them; HISPER's results carry the fixed-seed
evaluation in every iteration, also in those that did not evaluate; the lm-inference trials tune the
last training stage from the stages trained once before them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml
from rich.console import Console

from edgeplace.algos.agentvne.policy import AgentVNEPolicy
from edgeplace.algos.agentvne.pretrain import BEST_FILE
from edgeplace.algos.agentvne.settings import PRETRAIN_DIR
from edgeplace.algos.checkpoints import METADATA_FILE, latest_checkpoint, read_metadata
from edgeplace.envs.agent_vne import AGENT_ID, AgentVNEEnv
from edgeplace.tuning import SweepSpec, run_sweep
from edgeplace.tuning.command import tune_command
from edgeplace.tuning.summary import BEST_MARK
from edgeplace.tuning.trainable import CARRIED_FILE
from edgeplace.tuning.trial_config import config_column

TUNE_CONFIGS = Path(__file__).resolve().parents[2] / "edgeplace" / "tune_configs"
#: Tune's per-trial result log (one row per reported iteration).
PROGRESS_FILE = "progress.csv"
EVAL_STEPS = "evaluation/env_runners/env_steps_at_evaluation"


def smoke_file(name: str, storage: Path) -> Path:
    """The shipped smoke sweep ``name`` with its experiments under ``storage``."""
    raw = yaml.safe_load((TUNE_CONFIGS / f"{name}.yaml").read_text())
    path = storage / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**raw, "storage_path": str(storage / "runs")}))
    return path


def trial_progress(experiment: Path) -> dict[str, pd.DataFrame]:
    """Trial directory name -> its reported results."""
    return {path.parent.name: pd.read_csv(path) for path in experiment.glob(f"*/{PROGRESS_FILE}")}


def test_agentvne_sweep_pretrains_once_and_every_trial_fine_tunes_from_it(ray_session, tmp_path):
    # `edgeplace tune tune_configs/agent_vne_agentvne_smoke.yaml`, with the runs under tmp_path
    sweep_file = smoke_file("agent_vne_agentvne_smoke", tmp_path)
    spec = SweepSpec.from_yaml(sweep_file)
    console = Console(record=True, width=250)
    tune_command(sweep_file, address=None, resume=False, console=console)
    text = console.export_text()
    assert "2 trials: 2 finished, 0 errored" in text and BEST_MARK in text

    experiment = Path(spec.experiment_path)
    pretrained = experiment / PRETRAIN_DIR / BEST_FILE
    checkpoints = sorted(path.parent for path in experiment.glob(f"*/checkpoint_*/{METADATA_FILE}"))
    assert pretrained.is_file() and len(checkpoints) == 2
    trained = [read_metadata(path)["train_config"] for path in checkpoints]
    assert {config["algo_options"]["pretrained"] for config in trained} == {str(pretrained)}
    assert {config["lr"] for config in trained} == {1e-4, 1e-3}
    progress = trial_progress(experiment)
    assert len(progress) == 2 and all(frame[spec.metric].notna().all() for frame in progress.values())

    env = AgentVNEEnv(spec.train.env_config)
    obs, _ = env.reset(seed=0)
    (action,) = AgentVNEPolicy.from_checkpoint(checkpoints[0]).act_batch([AGENT_ID], [obs[AGENT_ID]])
    env.step({AGENT_ID: action})  # the fine-tuned network's placement is within the env's masks


def test_hisper_sweep_reports_the_latest_evaluation_in_every_result(ray_session, tmp_path):
    # Each trial evaluates after its first iteration (20 env steps), not after its second (the next
    # evaluation is due at 60): both results carry the first evaluation, and so does the checkpoint.
    spec = SweepSpec.from_yaml(smoke_file("dnn_inference_hisper_smoke", tmp_path))
    result = run_sweep(spec)
    assert result.num_trials == result.num_terminated == 2
    assert set(result.results[config_column("algo_options.alpha")]) == {1.0, 2.0}
    progress = trial_progress(Path(result.experiment_path))
    for frame in progress.values():
        assert frame["training_iteration"].tolist() == [1, 2]
        assert frame[spec.metric].notna().all() and frame[spec.metric].nunique() == 1
        assert frame[EVAL_STEPS].tolist() == [20, 20]
    assert result.best_metric in {frame[spec.metric].iloc[-1] for frame in progress.values()}
    assert result.best_checkpoint is not None
    carried = json.loads((Path(result.best_checkpoint.path) / CARRIED_FILE).read_text())
    assert carried["evaluation"]["env_runners"]["env_steps_at_evaluation"] == 20


def test_lm_inference_sweep_trains_the_first_stages_once_and_tunes_the_last(ray_session, tmp_path):
    spec = SweepSpec.from_yaml(smoke_file("lm_inference_learned_smoke", tmp_path))
    result = run_sweep(spec)
    assert result.num_trials == result.num_terminated == 2
    experiment = Path(spec.experiment_path)
    stage_b = latest_checkpoint(experiment / "stage_b")
    assert latest_checkpoint(experiment / "stage_a") is not None and stage_b is not None
    checkpoints = sorted(path.parent for path in experiment.glob(f"*/checkpoint_*/{METADATA_FILE}"))
    trained = [read_metadata(path) for path in checkpoints]
    assert {meta["train_config"]["algo_options"]["initial_modules"] for meta in trained} == {str(stage_b)}
    assert all(meta["train_config"]["env_config"]["scripted_agents"] == [] for meta in trained)
    assert all("planner" in meta["agent_modules"] for meta in trained)
