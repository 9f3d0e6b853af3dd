"""Sweeps on the two-node test cluster: trials spread over both nodes, Tune and W&B loggers write, the
best checkpoint serves, and an interrupted sweep resumes without rerunning finished trials."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import ray
import yaml
from rich.console import Console

from edgeplace.algos.checkpoints import METADATA_FILE, read_metadata
from edgeplace.algos.module_policy import ModulePolicy
from edgeplace.envs.genai_chain import GenAIChainEnv
from edgeplace.policy import act
from edgeplace.tuning import SweepSpec, SweepSpecError, export_best_checkpoint, run_sweep, summary_table
from edgeplace.tuning.command import tune_command
from edgeplace.tuning.loggers import WANDB_MODE_ENV
from edgeplace.tuning.progress import TrialEvent, TrialEventKind
from edgeplace.tuning.summary import BEST_MARK
from edgeplace.tuning.sweep import ExperimentExistsError
from edgeplace.tuning.trainable import NODE_ID_METRIC
from edgeplace.tuning.trial_config import config_column
from tests.conftest import TEST_NODE_CPUS

SMOKE = Path(__file__).resolve().parents[2] / "edgeplace" / "tune_configs" / "genai_chain_mappo_smoke.yaml"
WANDB_PROBE = "import sys, wandb; wandb.init(mode='offline', dir=sys.argv[1], project='probe').finish()"


def wait_for_free_cpus(cpus: float, timeout_s: float = 60.0) -> None:
    """Block until the cluster reports ``cpus`` CPUs available (polling Ray's resource view)."""
    deadline = time.monotonic() + timeout_s
    while ray.available_resources().get("CPU", 0.0) < cpus:
        if time.monotonic() > deadline:
            raise TimeoutError(f"cluster still has only {ray.available_resources().get('CPU')} free CPUs")
        time.sleep(0.1)


def smoke_spec(storage: Path, **changes) -> SweepSpec:
    raw = yaml.safe_load(SMOKE.read_text())
    raw.update(storage_path=str(storage), **changes)
    return SweepSpec.from_dict(raw)


@pytest.fixture(scope="module")
def wandb_offline(tmp_path_factory) -> bool:
    """Whether an offline W&B run can start here (checked in a child process)."""
    probe = subprocess.run(
        [sys.executable, "-c", WANDB_PROBE, str(tmp_path_factory.mktemp("wandb-probe"))],
        capture_output=True,
        timeout=120,
    )
    return probe.returncode == 0


@pytest.fixture(scope="module")
def smoke_sweep(ray_session, tmp_path_factory, wandb_offline):
    """The smoke sweep (2 samples x 2 grid points = 4 one-iteration trials) with every trial event."""
    storage = tmp_path_factory.mktemp("tune")
    spec = smoke_spec(storage, loggers=["wandb"] if wandb_offline else [])
    # Earlier tests' actors (Serve's controller and replicas) may still be releasing their CPUs; with
    # both nodes free, two trials start at once and must land on different nodes.
    wait_for_free_cpus(TEST_NODE_CPUS * 2)
    events: list[TrialEvent] = []
    with pytest.MonkeyPatch.context() as env:
        env.delenv(WANDB_MODE_ENV, raising=False)  # restored after the sweep set it to offline
        env.delenv("WANDB_API_KEY", raising=False)
        result = run_sweep(spec, on_progress=events.append)
    return spec, result, events


def test_trials_ran_on_both_nodes(smoke_sweep):
    _, result, _ = smoke_sweep
    nodes = {node["NodeID"] for node in ray.nodes() if node["Alive"]}
    assert len(nodes) == 2
    assert set(result.results[NODE_ID_METRIC]) == nodes


def test_every_trial_finished_with_its_sampled_config(smoke_sweep):
    spec, result, events = smoke_sweep
    assert result.num_trials == result.num_terminated == 4 and not result.interrupted
    trials = set(result.results["trial_id"])
    for kind in (TrialEventKind.STARTED, TrialEventKind.RESULT, TrialEventKind.COMPLETED):
        assert {e.trial_id for e in events if e.kind is kind} == trials
    frame = result.results
    assert set(frame[config_column("num_epochs")]) == {1, 2}
    assert frame[config_column("lr")].between(1e-4, 1e-3).all()
    assert set(frame[config_column("entropy_coeff")]) <= {0.0, 0.01}
    assert (frame["timesteps_total"] >= spec.train.timesteps).all()
    assert result.best_config is not None and result.best_config["num_epochs"] in (1, 2)


def test_best_checkpoint_serves(smoke_sweep, tmp_path):
    _, result, _ = smoke_sweep
    assert result.best_checkpoint is not None
    checkpoint = Path(result.best_checkpoint.path)
    metadata = read_metadata(checkpoint)
    assert metadata["scenario"] == "genai-chain" and metadata["iteration"] == 1
    env = GenAIChainEnv(metadata["env_config"])
    obs, _ = env.reset(seed=0)
    for path in (checkpoint, export_best_checkpoint(result, tmp_path / "best")):
        policy = ModulePolicy.from_checkpoint(path)
        action = act(policy, obs)["stage_1"]
        assert obs["stage_1"]["action_mask"][action] == 1
    assert (tmp_path / "best" / METADATA_FILE).is_file()


def test_summary_table_lists_trials_best_first(smoke_sweep):
    _, result, _ = smoke_sweep
    console = Console(record=True, width=250)
    console.print(summary_table(result))
    text = console.export_text()
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert len(rows) == 4 and BEST_MARK in rows[0] and result.best_trial_id in rows[0]
    assert "4 trials: 4 finished, 0 errored" in text


def test_tensorboard_always_and_wandb_offline(smoke_sweep, wandb_offline):
    _, result, _ = smoke_sweep
    trial_dirs = [path for path in Path(result.experiment_path).iterdir() if path.is_dir()]
    assert len(trial_dirs) == result.num_trials
    assert all(list(d.glob("events.out.tfevents.*")) and (d / "progress.csv").is_file() for d in trial_dirs)
    if not wandb_offline:
        pytest.skip("wandb cannot start an offline run here")
    # W&B's logging actors finish after their trials, the last ones after Tune's last upload of the
    # trial directories: the sweep uploads again once they have (loggers.FinalUpload).
    runs = {run.name for d in trial_dirs for run in d.glob("wandb/offline-run-*/run-*.wandb")}
    assert runs == {f"run-{trial_id}.wandb" for trial_id in result.results["trial_id"]}


def test_existing_experiment_needs_resume_and_resume_needs_an_experiment(smoke_sweep, tmp_path):
    spec, _, _ = smoke_sweep
    with pytest.raises(ExperimentExistsError, match="resume it with --resume"):
        run_sweep(spec)
    with pytest.raises(FileNotFoundError, match="no experiment to resume"):
        run_sweep(smoke_spec(tmp_path), resume=True)


def test_interrupted_sweep_resumes_without_rerunning_finished_trials(ray_session, tmp_path):
    # Two trials one after the other: one of 1 iteration, then one of 4 (checkpointing every
    # iteration). Ctrl+C (SIGINT, which Tune catches by saving the experiment state) once the second
    # trial's first checkpoint is registered; then resume.
    long_iterations = 4
    spec = smoke_spec(
        tmp_path,
        num_samples=1,
        max_concurrent_trials=1,
        scheduler={"type": "fifo"},
        search_space={"timesteps": {"grid": [200, 200 * long_iterations]}},
    )
    first: list[TrialEvent] = []
    sent: list[signal.Signals] = []  # Tune catches the first SIGINT only

    def interrupt_after_a_checkpoint_of_the_unfinished_trial(event: TrialEvent) -> None:
        first.append(event)
        finished = {e.trial_id for e in first if e.kind is TrialEventKind.COMPLETED}
        unfinished_checkpoint = event.kind is TrialEventKind.CHECKPOINTED and event.trial_id not in finished
        if finished and unfinished_checkpoint and not sent:
            sent.append(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)

    interrupted = run_sweep(spec, on_progress=interrupt_after_a_checkpoint_of_the_unfinished_trial)
    assert interrupted.interrupted and interrupted.num_terminated == 1
    finished = {e.trial_id for e in first if e.kind is TrialEventKind.COMPLETED}
    checkpointed = [e for e in first if e.kind is TrialEventKind.CHECKPOINTED and e.trial_id not in finished]
    assert sent and len(checkpointed) == 1 and checkpointed[0].iteration < long_iterations

    second: list[TrialEvent] = []
    resumed = run_sweep(spec, resume=True, on_progress=second.append)
    assert resumed.num_trials == resumed.num_terminated == 2 and not resumed.interrupted
    assert second and not {e.trial_id for e in second} & finished, "finished trials must not rerun"
    results = [e for e in second if e.kind is TrialEventKind.RESULT]
    assert results[0].iteration == checkpointed[0].iteration + 1, "resumed from its checkpoint"
    assert results[-1].iteration == long_iterations


def test_tune_command_prints_the_summary_and_exports_the_best_checkpoint(smoke_sweep, tmp_path):
    # Resuming the finished smoke sweep runs no trial; the command still reports it in full.
    spec, result, _ = smoke_sweep
    raw = yaml.safe_load(SMOKE.read_text())
    raw.update(storage_path=spec.storage_path, export_best_to=str(tmp_path / "best"))
    sweep_file = tmp_path / f"{spec.name}.yaml"
    sweep_file.write_text(yaml.safe_dump(raw))
    console = Console(record=True, width=250)
    tune_command(sweep_file, address=None, resume=True, console=console)
    text = console.export_text()
    assert f"best checkpoint: {tmp_path / 'best'}" in text and BEST_MARK in text
    assert (
        ModulePolicy.from_checkpoint(tmp_path / "best").agent_modules
        == read_metadata(Path(result.best_checkpoint.path))["agent_modules"]
    )


def test_tune_command_rejects_a_bad_sweep_before_any_trial(tmp_path):
    raw = yaml.safe_load(SMOKE.read_text())
    raw.update(storage_path=str(tmp_path / "runs"), train={**raw["train"], "num_epochs": "ten"})
    sweep_file = tmp_path / "bad.yaml"
    sweep_file.write_text(yaml.safe_dump(raw))
    with pytest.raises(SweepSpecError, match="train.num_epochs: expected int, got 'ten'"):
        tune_command(sweep_file, address=None, resume=False, console=Console(record=True))
    assert not (tmp_path / "runs").exists()
