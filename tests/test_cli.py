"""The command line as a user drives it (typer's runner, real package code underneath)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from edgeplace.cli import app

runner = CliRunner()


def test_scenarios_lists_genai_chain_and_its_baselines():
    result = runner.invoke(app, ["scenarios"])
    assert result.exit_code == 0, result.output
    assert "genai-chain" in result.output and "greedy" in result.output


def test_evaluate_baselines_writes_report(tmp_path):
    out = tmp_path / "eval"
    policies = ["--policy", "greedy", "--policy", "random", "--reference", "greedy"]
    budget = ["--episodes", "3", "--seeds", "0,1", "--topology", "synthetic:genai-small"]
    args = ["evaluate", "genai-chain", *policies, *budget, "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    record = json.loads((out / "results.json").read_text())
    assert [row["policy"] for row in record["summary"]] == ["greedy", "random"]
    assert (out / "results.md").is_file() and list(out.glob("bar_*.png"))


def test_evaluate_rejects_unknown_policy_and_bad_seeds(tmp_path):
    result = runner.invoke(app, ["evaluate", "genai-chain", "--policy", "oracle", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "neither a baseline" in str(result.exception)
    result = runner.invoke(app, ["evaluate", "genai-chain", "--policy", "greedy", "--seeds", "a,b",
                                 "--out", str(tmp_path)])  # fmt: skip
    assert result.exit_code != 0 and "--seeds" in result.output


def test_bad_topology_uri_names_the_parameter(tmp_path):
    result = runner.invoke(app, ["evaluate", "genai-chain", "--policy", "greedy", "--episodes", "1",
                                 "--topology", "waxman:nodes=abc", "--out", str(tmp_path)])  # fmt: skip
    assert result.exit_code != 0 and "nodes" in str(result.exception)


def test_reproduce_names_the_known_papers_and_budgets(tmp_path):
    from edgeplace.scenarios.registry import reproductions

    result = runner.invoke(app, ["reproduce", "alphazero", "--out", str(tmp_path)])
    known = sorted(reproductions())
    assert {"agentvne", "hisper", "lm-inference", "vamappo"} <= set(known)
    assert result.exit_code != 0 and str(known) in str(result.exception)
    result = runner.invoke(app, ["reproduce", "hisper", "--data", str(tmp_path), "--out", str(tmp_path)])
    assert result.exit_code != 0 and "reproduce hisper reads no dataset" in result.output
    result = runner.invoke(app, ["reproduce", "agentvne", "--budget", "huge", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "unknown budget 'huge'" in str(result.exception)


def test_agents_option_sets_the_agent_count_where_the_scenario_has_one(tmp_path):
    from edgeplace.scenarios import get_scenario

    assert get_scenario("dnn-inference").env_config(agents=10) == {"agents_per_service": 5}
    result = runner.invoke(app, ["train", "dnn-inference", "--agents", "9", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "even number" in str(result.exception)
    result = runner.invoke(app, ["train", "genai-chain", "--agents", "8", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "genai-chain has no agent count option" in str(result.exception)


@pytest.mark.usefixtures("ray_session")
def test_train_writes_checkpoints_under_a_relative_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # as the README's quickstart runs: --out relative to the working directory
    budget = ["--timesteps", "200", "--batch", "200", "--minibatch", "100", "--epochs", "1"]
    args = ["train", "genai-chain", "--topology", "synthetic:genai-small", *budget, "--envs-per-runner", "2",
            "--out", "runs/relative"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "runs" / "relative" / "checkpoints" / "LATEST").is_file()


def test_env_options_reach_the_evaluated_env(tmp_path):
    args = ["evaluate", "metaverse-dag", "--policy", "greedy", "--episodes", "1", "--out", str(tmp_path)]
    result = runner.invoke(app, [*args, "--env-option", "horizon=3", "--env-option", "planner=heuristic"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, [*args, "--env-option", "planner=oracle"])
    assert result.exit_code != 0 and "unknown planner 'oracle'" in str(result.exception)
    result = runner.invoke(app, [*args, "--env-option", "horizon"])
    assert result.exit_code != 0 and "--env-option takes KEY=VALUE" in result.output


def test_build_memory_writes_a_planner_memory_and_names_scenarios_without_one(tmp_path):
    out = tmp_path / "memory"
    budget = ["--windows", "8", "--epochs", "1"]
    result = runner.invoke(app, ["planners", "build-memory", "metaverse-dag", *budget, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "fit_report.json").read_text())["windows"] >= 8
    result = runner.invoke(app, ["planners", "build-memory", "genai-chain", "--out", str(out)])
    assert result.exit_code != 0 and "scenarios with one: ['metaverse-dag']" in str(result.exception)
