"""A tiny end-to-end LLM-MAPPO reproduction: every registered method trains (LLM-MAPPO bootstrapping its
planner's memory), Table 3 runs, every method and heuristic is evaluated on the same streams, the report
carries Table 4, Table 3 and the targets, and a rerun reuses every step."""

from __future__ import annotations

import json

import pytest

from edgeplace.reproduce.llm_mappo import Budget, available_methods, run_llm_mappo_reproduction
from edgeplace.reproduce.llm_mappo_planner import PlannerMseSettings
from tests.algos.test_cromadqn_training import TINY_MODEL as CROMADQN_MODEL
from tests.algos.test_llm_mappo_training import TINY_MODEL

#: 10-step episodes, 2 per run, tiny networks and batches.
TINY = Budget(
    name="tiny",
    training_seeds=(0,),
    training_episodes=2,
    eval_episodes=1,
    memory_windows=8,
    planner=PlannerMseSettings(windows=12, held_out_windows=8, online_windows=4, epochs=1),
    train_options={
        "train_batch_size": 80,
        "minibatch_size": 40,
        "num_epochs": 1,
        "num_envs_per_env_runner": 2,
        "model": TINY_MODEL,
    },
    dqn_options={
        "num_envs_per_env_runner": 2,
        "model": CROMADQN_MODEL,
        "algo_options": {
            "batch_size": 16,
            "replay_capacity": 200,
            "learning_starts": 10,
            "iteration_steps": 20,
        },
    },
    env_options={"horizon": 10},
    disturbance_step=4,
    condition_episodes=1,
)


@pytest.mark.usefixtures("ray_session")
def test_tiny_reproduction_writes_the_report_and_resumes(tmp_path):
    report = run_llm_mappo_reproduction(tmp_path, budget=TINY)
    text = report.read_text()
    assert "# LLM-MAPPO (metaverse-dag) reproduction (tiny budget)" in text
    for heading in (
        "Table 4",
        "Table 3",
        "Table 4 latency ordering",
        "Fig. 9 ablation ordering",
        "vs RSPPO",
        "Fig. 7: disturbances",
        "Fig. 7a: LLM-MAPPO recovers <= 40 s (fail-5%)",
        "Fig. 7b: LLM-MAPPO lowest surge peak",
        "Fig. 5: load sweep",
        "Fig. 5: LLM-MAPPO smallest latency growth load-300 / load-50",
    ):
        assert heading in text, heading
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["methods"]) == {*available_methods(), "greedy", "random"}
    assert set(summary["disturbances"]) == {"fail-5%", "fail-25%", "surge"}
    assert set(summary["loads"]) == {"load-50", "load-300"}
    assert (tmp_path / "methods.png").is_file() and (tmp_path / "learning_curves.png").is_file()
    for method in available_methods():
        if method in ("llm-mappo", "wo-shaping", "wo-toporag"):
            assert (tmp_path / "runs" / f"{method}-seed0" / "planner_memory" / "traces.npz").is_file()
    # A second run reuses every run, planner and evaluation: nothing is trained or evaluated again.
    stamps = {p: p.stat().st_mtime_ns for p in [*tmp_path.rglob("*.csv"), *tmp_path.rglob("*.npz")]}
    run_llm_mappo_reproduction(tmp_path, budget=TINY)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
