"""The reproductions' resumable steps: a cached evaluation or table is reused only while it was made
from the same inputs, and a run directory is continued only under the config it was trained with."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from rich.console import Console

from edgeplace.algos.baselines import make_baseline
from edgeplace.algos.checkpoints import CHECKPOINT_DIR, LATEST_FILE, METADATA_FILE
from edgeplace.algos.train_config import TrainConfig
from edgeplace.envs.genai_chain import SCENARIO_ID
from edgeplace.policy import Policy
from edgeplace.reproduce import steps as steps_module
from edgeplace.reproduce.cache import Provenance
from edgeplace.reproduce.protocol import Budget
from edgeplace.reproduce.steps import (
    RUN_DIGEST_FILE,
    EvaluationStep,
    Policies,
    StaleRunError,
    TrainedRun,
    TrainingStep,
    cached_frame,
    check_runs,
    ensure_trained,
    evaluate_all,
)

CONFIG = {"topology": "synthetic:genai-small", "split": "test"}
QUICK, PAPER = Budget(name="quick", training_seeds=(0,)), Budget(name="paper", training_seeds=(0, 1, 2))
EPISODES = Path("eval") / "greedy" / "episodes.csv"


def _console() -> Console:
    return Console(file=io.StringIO(), width=400)


def _said(console: Console) -> str:
    return console.file.getvalue()


class _Greedy:
    """A greedy baseline evaluation that counts how often its policies are built."""

    def __init__(self) -> None:
        self.built = 0

    def build(self) -> list[Policy]:
        self.built += 1
        return [make_baseline(SCENARIO_ID, "greedy")]

    def step(
        self, env: Mapping[str, Any] = CONFIG, seeds=(0, 1), episodes: int = 2, **tags
    ) -> EvaluationStep:
        return EvaluationStep(
            "greedy", env, Policies(self.build, {"baselines": ["greedy"]}), seeds, episodes, tags
        )


def test_a_cached_evaluation_builds_no_policy_and_keeps_its_tags(tmp_path):
    greedy, console = _Greedy(), _console()
    steps = [greedy.step(swept=0.5)]
    first = evaluate_all(steps, tmp_path, SCENARIO_ID, QUICK, console)
    assert greedy.built == 1 and len(first) == 2 * 2 and set(first["swept"]) == {0.5}
    assert (tmp_path / "eval" / "greedy" / "episodes.digest.json").is_file()
    again = evaluate_all(steps, tmp_path, SCENARIO_ID, QUICK, console)
    assert greedy.built == 1  # read from eval/greedy/episodes.csv: no checkpoint would be loaded
    assert "swept" not in pd.read_csv(tmp_path / EPISODES) and _said(console) == ""
    pd.testing.assert_frame_equal(again, first, check_dtype=False)


def test_a_changed_budget_is_not_served_from_the_cache(tmp_path):
    greedy, console = _Greedy(), _console()
    evaluate_all([greedy.step()], tmp_path, SCENARIO_ID, QUICK, console)
    evaluate_all([greedy.step()], tmp_path, SCENARIO_ID, PAPER, console)
    assert greedy.built == 2
    said = _said(console)
    assert 'eval/greedy: cached with other inputs (budget.name: "quick" -> "paper";' in said
    assert "budget.training_seeds: [0] -> [0, 1, 2]" in said and said.rstrip().endswith("recomputing")
    evaluate_all([greedy.step()], tmp_path, SCENARIO_ID, PAPER, console)
    assert greedy.built == 2  # the recomputed table and its digest replaced the old ones
    assert (
        json.loads((tmp_path / "eval" / "greedy" / "episodes.digest.json").read_text())["inputs"]["budget"][
            "name"
        ]
        == "paper"
    )


@pytest.mark.parametrize(
    "changed",
    [{"episodes": 3}, {"seeds": (0, 2)}, {"env": {**CONFIG, "split": "train"}}],
    ids=["episodes", "seeds", "env-config"],
)
def test_changed_episodes_seeds_or_env_config_are_evaluated_again(tmp_path, changed):
    greedy, console = _Greedy(), _console()
    evaluate_all([greedy.step()], tmp_path, SCENARIO_ID, QUICK, console)
    frame = evaluate_all([greedy.step(**changed)], tmp_path, SCENARIO_ID, QUICK, console)
    assert greedy.built == 2 and "recomputing" in _said(console)
    assert len(frame) == len(changed.get("seeds", (0, 1))) * changed.get("episodes", 2)


def test_changed_policy_sources_are_evaluated_again(tmp_path):
    greedy, console = _Greedy(), _console()
    evaluate_all([greedy.step()], tmp_path, SCENARIO_ID, QUICK, console)
    retrained = EvaluationStep(
        "greedy", CONFIG, Policies(greedy.build, {"baselines": ["greedy"], "seed": 1}), (0, 1), 2
    )
    evaluate_all([retrained], tmp_path, SCENARIO_ID, QUICK, console)
    assert greedy.built == 2 and "policies.seed: absent -> 1" in _said(console)


def test_an_evaluation_without_a_digest_is_recomputed(tmp_path):
    greedy, console = _Greedy(), _console()
    evaluate_all([greedy.step()], tmp_path, SCENARIO_ID, QUICK, console)
    (tmp_path / "eval" / "greedy" / "episodes.digest.json").unlink()  # as an older edgeplace left it
    evaluate_all([greedy.step()], tmp_path, SCENARIO_ID, QUICK, console)
    assert greedy.built == 2
    assert "eval/greedy: cached with other inputs (no digest in episodes.digest.json): recomputing" in _said(
        console
    )


def test_a_cached_table_is_computed_again_only_when_its_inputs_change(tmp_path):
    calls: list[int] = []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"agents": [8], "seconds": [1.5e-5]})

    path, console = tmp_path / "sub" / "table.csv", _console()
    first = cached_frame(path, Provenance("table", "t", {"requests": [40]}), compute, console)
    again = cached_frame(path, Provenance("table", "t", {"requests": (40.0,)}), compute, console)
    assert calls == [1] and path.is_file() and (tmp_path / "sub" / "table.digest.json").is_file()
    pd.testing.assert_frame_equal(again, first)
    cached_frame(path, Provenance("table", "t", {"requests": [40, 80]}), compute, console)
    assert calls == [1, 1] and "table/t: cached with other inputs (requests: [40] -> [40, 80])" in _said(
        console
    )


# --- training runs -----------------------------------------------------------------------------
def _fake_training(calls: list[TrainConfig]):
    """A stand-in for run_training: one checkpoint at the config's timesteps, with its metadata."""

    def train(config: TrainConfig, run_dir: Path, *, resume: bool, on_iteration) -> None:
        calls.append(config)
        root = run_dir / CHECKPOINT_DIR
        (root / "iter_000001").mkdir(parents=True, exist_ok=True)
        metadata = {
            "train_config": config.to_dict(),
            "iteration": 1,
            "timesteps": config.timesteps,
            "wall_s": 1,
        }
        (root / "iter_000001" / METADATA_FILE).write_text(json.dumps(metadata))
        (root / LATEST_FILE).write_text("iter_000001")
        pd.DataFrame({"iteration": [1], "timesteps": [config.timesteps], "wall_s": [1.0]}).to_csv(
            run_dir / "metrics.csv", index=False
        )

    return train


def _step(**changes: Any) -> TrainingStep:
    return TrainingStep("run-a", TrainConfig(timesteps=1000).replace(**changes), "a run")


@pytest.fixture
def trained(tmp_path, monkeypatch) -> list[TrainConfig]:
    """``tmp_path/runs/run-a`` trained once at 1,000 timesteps; the list records every training call."""
    calls: list[TrainConfig] = []
    monkeypatch.setattr(steps_module, "run_training", _fake_training(calls))
    run = ensure_trained(_step(), tmp_path)
    assert isinstance(run, TrainedRun) and len(calls) == 1
    assert (tmp_path / "runs" / "run-a" / RUN_DIGEST_FILE).is_file()
    return calls


def test_a_finished_run_is_reused_and_a_longer_budget_resumes_it(tmp_path, trained):
    first = ensure_trained(_step(num_gpus_per_learner=0.5, checkpoint_every=2), tmp_path).source()
    assert len(trained) == 1
    longer = ensure_trained(_step(timesteps=2000), tmp_path).source()
    assert [config.timesteps for config in trained] == [1000, 2000]
    assert longer["metadata_sha256"] != first["metadata_sha256"]  # the evaluations of the run rerun


def test_a_changed_training_config_does_not_resume_the_old_run(tmp_path, trained):
    with pytest.raises(
        StaleRunError, match=r"runs/run-a holds another run \(train_config.lr: 0.0003 -> 0.001\)"
    ):
        ensure_trained(_step(lr=1e-3), tmp_path)
    with pytest.raises(StaleRunError, match="train_config.model.d_model: absent -> 128.*delete .*run-a"):
        check_runs([_step(), _step(model={"d_model": 128})], tmp_path)
    assert len(trained) == 1  # nothing trained, nothing overwritten
    assert (
        json.loads((tmp_path / "runs" / "run-a" / RUN_DIGEST_FILE).read_text())["inputs"]["train_config"][
            "lr"
        ]
        == 3e-4
    )


def test_a_run_trained_for_longer_is_not_reused(tmp_path, trained):
    with pytest.raises(StaleRunError, match="trained for 1,000 timesteps, 500 asked"):
        ensure_trained(_step(timesteps=500), tmp_path)
    assert len(trained) == 1


def test_a_run_without_a_record_is_judged_by_its_checkpoints_config(tmp_path, trained):
    record = tmp_path / "runs" / "run-a" / RUN_DIGEST_FILE
    record.unlink()  # a run an older edgeplace trained
    ensure_trained(_step(), tmp_path)  # the same config: reused, nothing trains
    assert len(trained) == 1 and record.is_file()
    record.unlink()
    with pytest.raises(StaleRunError, match=r"train_config.lr: 0.0003 -> 0.001"):
        ensure_trained(_step(lr=1e-3), tmp_path)
    assert len(trained) == 1
