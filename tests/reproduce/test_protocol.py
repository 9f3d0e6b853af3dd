"""The protocol every reproduction shares: budgets by name, the targets table, the report layout, and
an outline that trains, evaluates and reports (here with stand-ins for training and evaluation)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from edgeplace.algos.train_config import TrainConfig
from edgeplace.reproduce import protocol
from edgeplace.reproduce.protocol import Budget, Protocol, Results, by_name, lookup_budget
from edgeplace.reproduce.report import Report, Target, runs_section, targets_table
from edgeplace.reproduce.steps import (
    RUN_DIGEST_FILE,
    StaleRunError,
    TrainedRun,
    TrainingStep,
    run_provenance,
)

BUDGETS = by_name(Budget(name="quick", training_seeds=(0,)), Budget(name="paper", training_seeds=(0, 1, 2)))


def _run(name: str) -> TrainedRun:
    metrics = pd.DataFrame({"timesteps": [100, 200], "wall_s": [2.0, 4.0], "kpi_sla": [0.5, 0.75]})
    return TrainedRun(name, Path("unused"), metrics)


def test_budgets_are_found_by_name_and_the_error_lists_them():
    assert lookup_budget(BUDGETS, "paper").training_seeds == (0, 1, 2)
    custom = Budget(name="custom", training_seeds=(7,))
    assert lookup_budget(BUDGETS, custom) is custom and custom.first_seed == 7
    with pytest.raises(KeyError, match=r"unknown budget 'huge'; known: \['paper', 'quick'\]"):
        lookup_budget(BUDGETS, "huge")
    with pytest.raises(ValueError, match="training_seeds"):
        Budget(name="empty", training_seeds=())


def test_a_missing_measurement_fails_its_target():
    assert Target("x >= 1", "2", holds=True, numbers=[2.0]).met
    assert not Target("x >= 1", "n/a", holds=True, numbers=[float("nan")]).met
    assert not Target("x >= 1", "0", holds=False, numbers=[0.0]).met
    # a comparison with NaN can come out True (max ignores a later NaN): the numbers still fail it
    values = [0.3, float("nan")]
    assert not Target("max <= 0.4", "0.3", holds=max(values) <= 0.4, numbers=values).met


def test_targets_table_renders_every_row_with_its_verdict():
    table = targets_table(
        [Target("a", "1.00", True, [1.0]), Target("b", "nan", True, [np.nan]), Target("c", "0", False, [0])]
    )
    assert table.splitlines() == [
        "| target | measured | met |",
        "| --- | --- | --- |",
        "| a | 1.00 | yes |",
        "| b | nan | **no** |",
        "| c | 0 | **no** |",
    ]


def test_runs_section_shows_missing_kpis_as_na():
    text = runs_section({"a": _run("a")}, {"kpi_sla": "{:.1%}", "kpi_hops": "{:.2f}"})
    assert (
        "| run | decisions | iterations | wall s | s / iteration | kpi_sla (last) | kpi_hops (last) |" in text
    )
    assert "| a | 200 | 2 | 4 | 2.0 | 75.0% | n/a |" in text


@dataclass(frozen=True)
class _Results(Results[Budget]):
    frame: pd.DataFrame


def test_the_outline_trains_evaluates_and_writes_the_report(tmp_path, monkeypatch):
    monkeypatch.setattr(protocol, "ensure_ray", lambda address: None)
    calls = []

    def training_steps(budget: Budget, **train) -> list[TrainingStep]:
        calls.append(("steps", budget.name, train))
        return [TrainingStep("run-a", TrainConfig(), "a run")]

    def train(
        steps: Sequence[TrainingStep], out: Path, console: Console, num_gpus_per_learner: float
    ) -> dict[str, TrainedRun]:
        calls.append(("train", [step.name for step in steps], out.is_absolute(), num_gpus_per_learner))
        return {"run-a": _run("run-a")}

    def evaluate(budget: Budget, runs: Mapping[str, TrainedRun], out: Path, console: Console) -> _Results:
        calls.append(("evaluate", budget.name, list(runs)))
        return _Results(budget, runs, pd.DataFrame({"x": [1.0]}))

    def report(results: _Results, out: Path) -> Report:
        figure = out / "curve.png"
        figure.write_bytes(b"")
        return Report(
            paper="Toy",
            settings="Settings line.",
            targets_source="issue 0",
            targets=[Target("x is 1", "1.0", results.frame["x"].iloc[0] == 1.0, [1.0])],
            sections=["## Table I\n\nbody"],
            figures=[figure],
            summary={"x": 1.0},
            run_kpis={"kpi_sla": "{:.1%}"},
        )

    toy = Protocol(BUDGETS, training_steps, evaluate, report, train=train)
    options = {"address": None, "num_gpus_per_learner": 0.5, "console": None}
    report_path = toy.run(tmp_path / "out", "paper", **options)
    assert calls == [
        ("steps", "paper", {"num_gpus_per_learner": 0.5}),
        ("train", ["run-a"], True, 0.5),
        ("evaluate", "paper", ["run-a"]),
    ]
    text = report_path.read_text()
    assert text.startswith("# Toy reproduction (paper budget)\n\nSettings line.\n\n## Targets (issue 0)")
    order = [
        text.index(part)
        for part in ("| x is 1 | 1.0 | yes |", "## Table I", "## Training runs", "## Figures")
    ]
    assert order == sorted(order) and "![curve](curve.png)" in text
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary == {
        "budget": "paper",
        "targets": [{"target": "x is 1", "measured": "1.0", "met": True}],
        "x": 1.0,
    }
    with pytest.raises(KeyError, match="unknown budget"):
        toy.run(tmp_path, "huge", **options)


def test_the_outline_refuses_a_stale_run_before_training_anything(tmp_path, monkeypatch):
    monkeypatch.setattr(protocol, "ensure_ray", lambda address: None)
    trained: list[str] = []

    def train(
        steps: Sequence[TrainingStep], out: Path, console: Console, gpus: float
    ) -> dict[str, TrainedRun]:
        trained.extend(step.name for step in steps)
        return {}

    def training_steps(budget: Budget, **train) -> list[TrainingStep]:
        return [
            TrainingStep("run-a", TrainConfig(seed=budget.first_seed)),
            TrainingStep("run-b", TrainConfig()),
        ]

    run_provenance("run-b", TrainConfig(lr=1e-3).to_dict()).save(
        tmp_path / "runs" / "run-b" / RUN_DIGEST_FILE
    )
    toy = Protocol(BUDGETS, training_steps, lambda *args: None, lambda *args: None, train=train)
    with pytest.raises(StaleRunError, match=r"run-b holds another run \(train_config.lr: 0.001 -> 0.0003\)"):
        toy.run(
            tmp_path, "quick", address=None, num_gpus_per_learner=0.0, console=Console(file=io.StringIO())
        )
    assert trained == []
