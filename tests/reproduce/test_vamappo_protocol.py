"""The VAMAPPO reproduction's protocol and report, on synthetic results, and a tiny end-to-end run."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from edgeplace.envs.genai_chain import ChainKPI
from edgeplace.evaluation.statistics import EPISODE, POLICY, SEED
from edgeplace.reproduce.report import seconds_per_iteration, write_report
from edgeplace.reproduce.steps import TrainedRun
from edgeplace.reproduce.vamappo import (
    BUDGETS,
    DEFAULT_DATA_DIR,
    PAPER_SEEDS,
    VamappoResults,
    run_vamappo_reproduction,
    topology,
    training_steps,
)
from edgeplace.reproduce.vamappo_report import targets, vamappo_report
from edgeplace.topology import load_topology, shipped_genai_edge_root


@pytest.fixture
def data_dir(tmp_path) -> Path:
    for server in (1, 2, 3, 4):
        (tmp_path / "data" / f"Server{server}").mkdir(parents=True)
    return tmp_path / "data"


def test_quick_protocol_trains_nine_runs_on_the_papers_topologies(data_dir):
    steps = {step.name: step.config for step in training_steps(BUDGETS["quick"], data_dir=data_dir)}
    assert list(steps) == [
        "m1-seed42",
        "m2-seed42",
        "m3-seed42",
        "mappo-s1",
        "metappo-s1",
        "vamappo-no-attention-s2",
        "vamappo-no-enhancement-s2",
        "vamappo-no-uncertainty-s2",
        "vamappo-minimal-s2",
    ]
    assert steps["m3-seed42"].env_config["topology"].endswith("Server3")
    assert steps["metappo-s1"].algo == "metappo" and steps["mappo-s1"].seed == 42
    assert {config.timesteps for config in steps.values()} == {BUDGETS["quick"].timesteps}


def test_paper_protocol_trains_every_model_with_five_seeds(data_dir):
    steps = [step.name for step in training_steps(BUDGETS["paper"], data_dir=data_dir)]
    assert sum(name.startswith("m1-seed") for name in steps) == len(PAPER_SEEDS)
    assert len(steps) == 3 * len(PAPER_SEEDS) + 6


def test_missing_dataset_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="Server1 does not exist"):
        topology(tmp_path, 1)


def test_the_dataset_defaults_to_the_shipped_one_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a fresh clone or an installed package: no ../shared needed
    assert inspect.signature(run_vamappo_reproduction).parameters["data_dir"].default == DEFAULT_DATA_DIR
    assert shipped_genai_edge_root() == DEFAULT_DATA_DIR
    steps = {step.name: step.config for step in training_steps(BUDGETS["quick"], data_dir=DEFAULT_DATA_DIR)}
    assert steps["m1-seed42"].env_config["topology"] == "genai-edge:S1"  # the same URI on every install
    assert steps["vamappo-minimal-s2"].env_config["topology"] == "genai-edge:S2"
    assert load_topology(topology(DEFAULT_DATA_DIR, 4)).num_nodes == 30


def _episodes(policies: dict[str, float], seeds, episodes: int, rng) -> pd.DataFrame:
    """Per-episode KPI rows whose SLA and utility center on each policy's quality q."""
    rows = []
    for policy, q in policies.items():
        for seed in seeds:
            for episode in range(episodes):
                rows.append(
                    {
                        POLICY: policy,
                        SEED: seed,
                        EPISODE: episode,
                        ChainKPI.SLA_SATISFACTION: min(1.0, q + rng.normal(0, 0.01)),
                        ChainKPI.UTILITY: 35 * q + rng.normal(0, 0.5),
                        ChainKPI.LATENCY_S: 1.5 - q + rng.normal(0, 0.01),
                        ChainKPI.COMM_OVERHEAD_S: 2.0 - q,
                        ChainKPI.NODE_USAGE_CV: 1.0,
                        ChainKPI.NODES_USED: 10.0,
                    }
                )
    return pd.DataFrame(rows)


def _run(name: str, seconds: float) -> TrainedRun:
    metrics = pd.DataFrame(
        {
            "iteration": [1, 2, 3],
            "timesteps": [5120, 10240, 15360],
            "wall_s": np.cumsum([seconds] * 3),
            "episode_return_mean": [20.0, 25.0, 30.0],
            "kpi_sla_satisfaction": [0.9, 0.95, 0.97],
            "shared/vamappo/alpha": [0.8, 0.85, 0.9],
            "shared/default_optimizer_learning_rate": [3e-4, 2e-4, 1e-4],
        }
    )
    return TrainedRun(name, Path("unused"), metrics)


def test_report_checks_targets_and_draws_figures(tmp_path):
    rng = np.random.default_rng(0)
    s4 = _episodes(
        {"vamappo": 0.98, "mappo": 0.95, "metappo": 0.9, "greedy": 0.9, "random": 0.93}, [42, 123], 20, rng
    )
    results = VamappoResults(
        budget=BUDGETS["quick"],
        runs={"m1-seed42": _run("m1-seed42", 8.0), "mappo-s1": _run("mappo-s1", 7.0)},
        table_iv={f"S{i}": _episodes({f"M{i}": 0.97}, [42], 20, rng) for i in (1, 2, 3)},
        zero_shot=_episodes({"M1": 0.98, "M2": 0.96, "M3": 0.97}, [42, 123], 20, rng),
        s4=s4,
        ablation=_episodes(
            {
                "full": 0.97,
                "no-enhancement": 0.96,
                "no-uncertainty": 0.95,
                "no-attention": 0.8,
                "minimal": 0.8,
            },
            [42],
            20,
            rng,
        ),
        num_nodes={"S1": 50, "S2": 100, "S3": 30, "S4": 50},
    )
    rows = {row.what: row for row in targets(results)}
    assert rows["S4 VAMAPPO SLA >= 97%"].met
    assert rows["S4 SLA above mappo (p < 0.05)"].met
    assert rows["S2 ablation: full >= no-uncertainty > minimal (utility)"].met
    assert rows["VAMAPPO s/iteration <= 1.5x MAPPO's (S1, same batch)"].measured == f"{8.0 / 7.0:.2f}x"
    report = write_report(tmp_path, vamappo_report(results, tmp_path), results)
    text = report.read_text()
    for heading in ("## Targets", "## Table IV", "## Table V", "## Fig. 10", "## Fig. 9", "## Training runs"):
        assert heading in text
    assert "32.22" in text  # the paper's S1 utility beside ours
    assert "| S4 VAMAPPO SLA >= 97% |" in text and "| kpi_sla_satisfaction (last) |" in text
    for png in ("s4_comparison.png", "ablation_s2.png", "zero_shot_s4.png", "gate_m1-seed42.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"


def test_seconds_per_iteration_ignores_a_resume_pause():
    run = _run("x", 5.0)
    run.metrics.loc[2, "wall_s"] += 500.0  # a long gap before the last iteration
    assert seconds_per_iteration(run) == 5.0


#: A budget that runs the whole protocol in about a minute: one 200-decision iteration per run.
TINY = dataclasses.replace(
    BUDGETS["quick"],
    name="tiny",
    timesteps=200,
    model={"d_model": 16, "num_heads": 2, "item_hidden": [16], "value_hidden": [16]},
    test_episodes=2,
    ablation_episodes=2,
    train_options={
        "train_batch_size": 200,
        "minibatch_size": 100,
        "num_epochs": 1,
        "num_envs_per_env_runner": 4,
    },
)


@pytest.mark.usefixtures("ray_session")
def test_tiny_reproduction_runs_end_to_end_on_the_shipped_data_and_resumes(tmp_path):
    report = run_vamappo_reproduction(tmp_path, budget=TINY)
    text = report.read_text()
    assert "## Table IV" in text and "## Table V" in text and "## Fig. 9" in text and "(tiny budget)" in text
    runs = sorted(path.name for path in (tmp_path / "runs").iterdir())
    assert len(runs) == 9 and "m1-seed42" in runs
    frames = sorted((tmp_path / "eval").glob("*/episodes.csv"))
    stamps = {path: path.stat().st_mtime_ns for path in frames}
    assert frames and run_vamappo_reproduction(tmp_path, budget=TINY).read_text() == text  # nothing reruns
    assert {path: path.stat().st_mtime_ns for path in frames} == stamps
