"""A tiny end-to-end lm-inference reproduction: staged learned training, the DRL baseline, every rule
controller, the report with its must-match rows and figures, and a resume that reuses every step."""

from __future__ import annotations

import json

import pytest

from edgeplace.reproduce.lm_inference import Budget, run_lm_inference_reproduction
from edgeplace.reproduce.lm_inference_paper import RULES
from edgeplace.reproduce.lm_inference_report import settle_epoch

#: Epochs of 5 slots, tiny networks and batches: each run a few iterations.
TINY = Budget(
    name="tiny",
    training_seeds=(0,),
    epochs=3,
    learned_slots=45,
    drl_slots=(40,),
    drl_phase_slots=20,
    train_options={
        "train_batch_size": 105,
        "minibatch_size": 105,
        "num_epochs": 1,
        "num_envs_per_env_runner": 1,
        "model": {"hidden": [8]},
    },
    drl_options={
        "hidden": [8],
        "num_envs": 1,
        "ppo_batch_slots": 10,
        "ppo_minibatch_size": 10,
        "ppo_epochs": 1,
        "learning_starts_slots": 5,
        "epsilon_slots": 20,
        "target_update_slots": 10,
    },
    env_options={"epoch_slots": 5, "drain_slots": 2},
)


@pytest.mark.usefixtures("ray_session")
def test_tiny_reproduction_writes_the_report_and_resumes(tmp_path):
    report = run_lm_inference_reproduction(tmp_path, budget=TINY)
    text = report.read_text()
    assert "# Multi-agentic LM inference (lm-inference) reproduction (tiny budget)" in text
    for row in (
        "1. MA (ma-rule)",
        "1. MA (learned)",
        "2. RF and RR",
        "3. RL",
        "4. Non-MA",
        "5. MAL",
        "6. ",
        "7. DRL",
    ):
        assert row in text, row
    assert "learned T̄_type within 1.2× of rule's" in text
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["policies"]) == {*RULES, "learned", "drl-40"}
    for png in (
        "fig5_latency_vs_fairness.png",
        "fig6_per_lm.png",
        "fig7_j_per_epoch.png",
        "learning_curves.png",
    ):
        assert (tmp_path / png).stat().st_size > 0, png
    for stage in "abc":
        assert (tmp_path / "runs" / "learned-seed0" / f"stage_{stage}" / "metrics.csv").is_file()
    assert (tmp_path / "runs" / "drl-40" / "curve.csv").is_file()
    # A second run reuses every run and evaluation: nothing is trained or evaluated again.
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.csv")}
    run_lm_inference_reproduction(tmp_path, budget=TINY)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_settle_epoch_is_where_the_rolling_mean_stays_within_ten_percent():
    import pandas as pd

    assert settle_epoch(pd.Series([0.10] * 6)) == 1
    # A slow start: the rolling mean reaches 10% of its final value only once the start rolls out.
    series = pd.Series([1.0, 1.0, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2])
    rolling = series.rolling(5, min_periods=1).mean()
    expected = (
        1
        + max(i for i in range(len(series)) if abs(rolling[i] - rolling.iloc[-1]) > 0.1 * rolling.iloc[-1])
        + 1
    )
    assert settle_epoch(series) == expected == 7
