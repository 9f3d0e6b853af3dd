"""The HISPER reproduction's protocol and report, on synthetic results (no training here)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from edgeplace.envs.dnn_inference import AgentKPI, DnnKPI, agent_ids, agent_kpi
from edgeplace.envs.dnn_inference.state import DnnObsKey
from edgeplace.evaluation.statistics import EPISODE, POLICY, SEED
from edgeplace.reproduce.hisper import (
    BUDGETS,
    EVAL_SEEDS,
    HAPPO_STEPS_PER_ITERATION,
    Budget,
    HisperResults,
    env_config,
    slot_batch,
    train_config,
    training_steps,
)
from edgeplace.reproduce.hisper_report import claims, hisper_report, ordering
from edgeplace.reproduce.hisper_results import curve_final, seed_gaps, stable_index
from edgeplace.reproduce.report import write_report
from edgeplace.reproduce.steps import TrainedRun

QUICK = BUDGETS["quick"]
#: Synthetic quality per policy: mean episode reward and failure rate.
QUALITY = {
    8: {
        "hisper": (-500.0, 0.01),
        "hasac": (-900.0, 0.03),
        "happo": (-5000.0, 0.15),
        "heuristic": (-8000.0, 0.10),
        "greedy-sequential": (-700.0, 0.02),
        "random": (-28000.0, 0.32),
    },
    10: {
        "hisper": (-600.0, 0.01),
        "hasac": (-3000.0, 0.08),
        "happo": (-9000.0, 0.2),
        "heuristic": (-12000.0, 0.12),
        "greedy-sequential": (-800.0, 0.02),
        "random": (-35000.0, 0.32),
    },
}


def test_protocol_trains_three_algorithms_at_two_agent_counts_with_three_seeds():
    steps = training_steps(QUICK)
    assert len(steps) == 3 * 2 * len(QUICK.training_seeds) and len(QUICK.training_seeds) >= 3
    assert steps[0].name == "hisper-a8-seed0" and steps[-1].name == "happo-a10-seed2"
    configs = {step.name: step.config for step in steps}
    hisper = configs["hisper-a10-seed1"]
    assert hisper.env_config == {"agents_per_service": 5} and hisper.seed == 1
    assert hisper.timesteps == QUICK.steps * 10  # agent decisions
    assert hisper.algo_options["train_batch_size_per_learner"] == QUICK.batch_size
    assert hisper.model["critic_hidden"] == QUICK.model["critic_hidden"]
    assert configs["hasac-a8-seed0"].algo == "hasac"
    happo = configs["happo-a8-seed2"].algo_options
    assert happo["steps_per_iteration"] == HAPPO_STEPS_PER_ITERATION and "prefill_steps" not in happo


def test_paper_budget_is_the_spec():
    paper = BUDGETS["paper"]
    assert (paper.steps, paper.batch_size, paper.prefill_steps, paper.buffer_size) == (
        600_000,
        1000,
        90_000,
        370_000,
    )
    assert (
        paper.updates_per_iteration == 100 and paper.steps_per_iteration == 2000 and paper.updates == 30_000
    )
    assert paper.model["critic_hidden"] == (512, 512, 256, 256, 128) and paper.model["lstm_hidden"] == 128
    assert len(EVAL_SEEDS) == 10 and EVAL_SEEDS[0] == 10_000


def test_budget_and_config_errors_name_the_field():
    with pytest.raises(ValueError, match="steps_per_iteration"):
        Budget(name="bad", steps=1500, training_seeds=(0,), steps_per_iteration=1000)
    with pytest.raises(ValueError, match="training_seeds"):
        Budget(name="bad", steps=1000, training_seeds=(), steps_per_iteration=1000)
    with pytest.raises(KeyError, match="mappo"):
        train_config(QUICK, "mappo", 8, 0)
    with pytest.raises(ValueError, match="even"):
        train_config(QUICK, "hisper", 7, 0)


def test_slot_batch_holds_whole_slots_in_agent_order():
    ids, observations = slot_batch(env_config(8), 12)
    assert len(ids) == 16 and ids[:8] == list(agent_ids(4)) and ids[8:] == ids[:8]
    assert len(observations) == 16 and DnnObsKey.REQUEST in observations[0]


def test_stable_index_hand_cases():
    # final (last 4) = -1, random = -11: threshold = -1 - 0.05 * 10 = -1.5; the last value <= -1.5 is at 1
    assert stable_index([-10.0, -5.0, -1.0, -1.0, -1.0, -1.0], -11.0, window=4) == 2
    assert stable_index([-1.0, -1.0], -11.0, window=4) == 0  # stable from the first evaluation
    assert stable_index([-1.0, -1.0, -9.0], -11.0, window=2) is None  # the last evaluation dips
    assert stable_index([], -11.0) is None
    assert curve_final([1.0, 2.0, 3.0, 5.0], last=2) == 4.0 and np.isnan(curve_final([]))


def test_ordering_and_seed_gaps():
    assert ordering({"a": 1.0, "b": 3.0, "c": 2.0}) == "b > c > a"
    assert ordering({"a": 1.0, "b": 3.0}, higher_is_better=False) == "a > b"
    frame = pd.DataFrame(
        {
            POLICY: ["x", "x", "x", "y", "y", "y"],
            "train_seed": [0, 1, 0, 1, 0, 1],
            SEED: [5, 5, 6, 5, 5, 6],
            EPISODE: [0, 0, 0, 0, 0, 0],
            "reward": [10.0, 20.0, 12.0, 4.0, 1.0, 6.0],
        }
    )
    # per-seed means: x 11 and 20, y 1 and 5
    np.testing.assert_array_equal(seed_gaps(frame, "x", "y", "reward"), [10.0, 15.0])


def _metrics(agents: int, final: float, failure: float, seed: int) -> pd.DataFrame:
    """A run's metrics.csv: 40 evaluations rising to ``final`` by the 10th, one iteration per evaluation."""
    evals = np.arange(1, 41)
    reward = final + (-20000.0 - final) * np.clip(1 - evals / 10, 0, 1) + 10.0 * np.sin(evals + seed)
    return pd.DataFrame(
        {
            "iteration": evals,
            "timesteps": evals * 1000 * agents,
            "wall_s": evals * 3.0,
            "episode_return_mean": reward,
            "eval_episode_return_mean": reward,
            "eval_kpi_r_acc": reward / 2,
            "eval_kpi_r_delay": reward / 3,
            "eval_kpi_r_cost": reward / 6,
            "eval_kpi_failure_rate": np.full(40, failure),
        }
    )


def _evaluation(agents: int, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    ids = agent_ids(agents // 2)
    for policy, (reward, failure) in QUALITY[agents].items():
        learned = policy in ("hisper", "hasac", "happo")
        for train_seed in QUICK.training_seeds if learned else (-1,):
            for seed in EVAL_SEEDS:
                value = reward + rng.normal(0, 50)
                row = {
                    POLICY: policy,
                    SEED: seed,
                    EPISODE: 0,
                    "train_seed": train_seed,
                    DnnKPI.REWARD: value,
                    DnnKPI.R_ACC: value / 2,
                    DnnKPI.R_DELAY: value / 3,
                    DnnKPI.R_COST: value / 6,
                    DnnKPI.FAILURE_RATE: failure + rng.normal(0, 0.002),
                    DnnKPI.COST_PER_SLOT: -value / 600,
                    DnnKPI.DELAY_PER_REQUEST_S: -value / 3000,
                }
                for n, agent in enumerate(ids):
                    row[agent_kpi(agent, AgentKPI.ACCURACY)] = (20.0 if agent.startswith("od") else 10.0) + n
                    row[agent_kpi(agent, AgentKPI.COST)] = 0.1 * n
                    row[agent_kpi(agent, AgentKPI.DELAY_S)] = 5.0 if policy == "heuristic" else 1.0
                rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture
def results() -> HisperResults:
    rng = np.random.default_rng(0)
    runs = {}
    for agents in (8, 10):
        for algo in ("hisper", "hasac", "happo"):
            reward, failure = QUALITY[agents][algo]
            for seed in QUICK.training_seeds:
                name = f"{algo}-a{agents}-seed{seed}"
                runs[name] = TrainedRun(name, Path("unused"), _metrics(agents, reward, failure, seed))
    timing = pd.DataFrame(
        [
            {"agents": agents, "policy": policy, "requests": requests, "seconds": scale * requests}
            for agents in (8, 10)
            for requests in (40, 80)
            for policy, scale in (("hisper", 2e-5), ("hasac", 1.5e-5), ("heuristic", 1e-4))
        ]
    )
    return HisperResults(
        budget=QUICK,
        runs=runs,
        evaluations={agents: _evaluation(agents, rng) for agents in (8, 10)},
        decision_time=timing,
    )


def test_claims_hold_on_results_built_to_satisfy_them(results):
    rows = {row.what: row for row in claims(results)}
    for agents in (8, 10):
        for rival in ("hasac", "happo", "heuristic", "greedy-sequential", "random"):
            assert rows[f"(1) HISPER reward > {rival} (p < 0.05), {agents} agents"].met
            assert rows[f"(2) HISPER failure rate < {rival} (p < 0.05), {agents} agents"].met
    assert rows["(3) Random lowest reward (vs nearest, heuristic), 8 agents"].met
    # gap 400 at 8 agents, 2400 at 10
    assert rows["(3) HISPER - HASAC reward gap wider at 10 agents than at 8"].met
    # the curves settle at the 10th evaluation of 1,000 steps: far from the paper's ~1e5
    stable = rows["(4) HISPER steps to stable within 2x of the paper's, 8 agents"]
    assert not stable.met and stable.measured.startswith("10,000 steps")


def test_a_failed_claim_is_reported_as_not_met(results):
    frame = results.evaluations[8]
    frame.loc[frame[POLICY] == "greedy-sequential", DnnKPI.REWARD] += 1000.0  # now above HISPER
    met = {row.what: row.met for row in claims(results)}
    assert not met["(1) HISPER reward > greedy-sequential (p < 0.05), 8 agents"]
    assert met["(1) HISPER reward > greedy-sequential (p < 0.05), 10 agents"]


def test_report_writes_tables_summary_and_figures(tmp_path, results):
    report = write_report(tmp_path, hisper_report(results, tmp_path), results)
    text = report.read_text()
    for heading in (
        "## Targets (the primary claims of spec h)",
        "## Final evaluation, 8 agents",
        "## Final evaluation, 10 agents",
        "## Orderings beside the paper's statements",
        "## Training time",
        "## Training runs",
    ):
        assert heading in text
    assert "hisper > greedy-sequential > hasac > happo > heuristic > random" in text  # reward at 8 agents
    assert "108,000" in text  # the paper's steps to stable beside ours
    assert "OD 21.5 vs MOT 15.5" in text  # per-agent accuracy 20 + n (OD, n = 0..3), 10 + n (MOT, n = 4..7)
    assert "heuristic on 8/8 agents" in text
    assert "HISPER / HASAC = 1.33" in text
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["budget"] == "quick" and summary["final"]["8"]["hisper"]["failure_rate"] == pytest.approx(
        0.01, abs=0.002
    )
    for png in (
        "fig7_curves_a8.png",
        "fig7_curves_a10.png",
        "fig8_failure_rate.png",
        "fig9_decision_time.png",
        "fig10_per_agent_a8.png",
    ):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
