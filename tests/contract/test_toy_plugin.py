"""The toy plug-in through the user's commands: ``edgeplace train``, ``evaluate`` and ``tune`` (its
shipped smoke sweep, by name), as a separately installed package's scenario."""

from __future__ import annotations

import json

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from edgeplace.cli import app
from edgeplace.scenarios import scenario_ids
from edgeplace.tuning.command import resolve_sweep_file, tune_command
from edgeplace.tuning.summary import BEST_MARK

runner = CliRunner()
TOY = "toy"


def test_the_toy_plug_in_is_registered_through_its_entry_point():
    assert TOY in scenario_ids(), (
        "the toy plug-in is not installed: pip install -e tests/plugins/toy_scenario"
    )


@pytest.mark.usefixtures("ray_session")
def test_train_then_evaluate_the_toy_from_the_command_line(tmp_path):
    budget = [
        "--timesteps",
        "96",
        "--batch",
        "48",
        "--minibatch",
        "24",
        "--epochs",
        "1",
        "--envs-per-runner",
        "2",
    ]
    run = str(tmp_path / "run")
    trained = runner.invoke(app, ["train", TOY, "--algo", "mappo", *budget, "--out", run])
    assert trained.exit_code == 0, trained.output
    evaluated = runner.invoke(app, [
        "evaluate", TOY, "--policy", "least-loaded", "--policy", f"mappo={run}", "--episodes", "4",
        "--out", str(tmp_path / "eval"),
    ])  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.output
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert "mappo" in json.dumps(results) and "least-loaded" in json.dumps(results)


@pytest.mark.usefixtures("ray_session")
def test_the_toy_smoke_sweep_runs_by_name(tmp_path):
    shipped = resolve_sweep_file("toy_mappo_smoke")
    raw = yaml.safe_load(shipped.read_text())
    sweep_file = tmp_path / shipped.name
    sweep_file.write_text(yaml.safe_dump({**raw, "storage_path": str(tmp_path / "runs")}))
    console = Console(record=True, width=200)
    tune_command(sweep_file, address=None, resume=False, console=console)
    text = console.export_text()
    assert "2 trials: 2 finished, 0 errored" in text and BEST_MARK in text


def test_an_unknown_sweep_name_lists_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match="toy_mappo_smoke"):
        resolve_sweep_file("no_such_sweep")
