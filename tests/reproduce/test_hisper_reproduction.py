"""A tiny end-to-end HISPER reproduction (CI: well under a minute on 2 cores): training, evaluation,
decision times, report, and a resume that reuses every finished step."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from edgeplace.algos.checkpoints import latest_checkpoint
from edgeplace.envs.dnn_inference import SCENARIO_ID
from edgeplace.evaluation.runner import evaluate_policies
from edgeplace.reproduce.hisper import (
    EVAL_SEEDS,
    Budget,
    env_config,
    learned_policy,
    run_hisper_reproduction,
)
from edgeplace.reproduce.steps import TrainedRun

#: Every run 200 slots of 5 in one or two iterations, tiny networks, one seed.
TINY = Budget(
    name="tiny",
    steps=200,
    training_seeds=(0,),
    model={"embed_dim": 4, "actor_hidden": (8,), "critic_hidden": (8,), "lstm_hidden": 4},
    batch_size=16,
    updates_per_iteration=2,
    steps_per_iteration=100,
    happo_steps_per_iteration=200,
    prefill_steps=100,
    buffer_size=1000,
    eval_interval_steps=100,
    decision_requests=(40,),
    env_options={"horizon": 5},
)


@pytest.mark.usefixtures("ray_session")
def test_tiny_reproduction_writes_the_report_and_resumes(tmp_path):
    report = run_hisper_reproduction(tmp_path, budget=TINY)
    assert report == tmp_path.resolve() / "report.md"
    text = report.read_text()
    assert (
        "# HISPER reproduction (tiny budget)" in text and "## Targets (the primary claims of spec h)" in text
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["final"]) == {"8", "10"}
    assert set(summary["final"]["8"]) == {
        "hisper",
        "hasac",
        "happo",
        "heuristic",
        "greedy-sequential",
        "random",
    }
    for png in (
        "fig7_curves_a8.png",
        "fig8_failure_rate.png",
        "fig9_decision_time.png",
        "fig10_per_agent_a8.png",
    ):
        assert (tmp_path / png).is_file()
    checkpoints = sorted((tmp_path / "runs").glob("*/checkpoints/iter_*"))
    assert len(checkpoints) == 6  # 3 algorithms x 2 agent counts x 1 seed, one kept each
    stamps = {path: path.stat().st_mtime_ns for path in checkpoints}
    evaluation = (tmp_path / "eval" / "hisper-a8-seed0" / "episodes.csv").read_text()

    run_hisper_reproduction(tmp_path, budget=TINY)  # everything is done: nothing retrains
    assert {path: path.stat().st_mtime_ns for path in checkpoints} == stamps
    assert (tmp_path / "eval" / "hisper-a8-seed0" / "episodes.csv").read_text() == evaluation
    # the checkpoint restored once more plays the same episodes (argmax: same actions on the same seeds)
    run = TrainedRun(
        "hisper-a8-seed0", latest_checkpoint(tmp_path / "runs" / "hisper-a8-seed0"), pd.DataFrame()
    )
    again = evaluate_policies(
        SCENARIO_ID,
        env_config(8, TINY.env_options),
        [learned_policy(run, "hisper")],
        seeds=EVAL_SEEDS,
        episodes=1,
    )
    pd.testing.assert_frame_equal(again, pd.read_csv(tmp_path / "eval" / "hisper-a8-seed0" / "episodes.csv"))
