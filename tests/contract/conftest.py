"""Fixtures of the scenario contract: every registered scenario (built-in, the toy plug-in, any other
installed plug-in) with its smoke settings, taken from the ``*_smoke.yaml`` sweep it ships."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edgeplace.algos.registry import run_training
from edgeplace.algos.train_config import TrainConfig
from edgeplace.algos.training import TrainingResult
from edgeplace.scenarios import ScenarioSpec, scenarios
from edgeplace.tuning import SweepSpec

#: The suffix of a scenario's tiny sweep: its fixed train config runs in seconds.
SMOKE_SUFFIX = "_smoke"


@dataclass(frozen=True)
class Smoke:
    """A scenario and the tiny training run of its smoke sweep (None: it ships none)."""

    spec: ScenarioSpec
    train: TrainConfig | None

    @property
    def env_config(self) -> dict[str, Any]:
        """The smoke run's env config (the env's defaults without one)."""
        return dict(self.train.env_config) if self.train is not None else {}


def smoke_of(spec: ScenarioSpec) -> Smoke:
    """``spec`` with the fixed train config of its first smoke sweep."""
    for path in spec.sweep_paths():
        if Path(str(path)).stem.endswith(SMOKE_SUFFIX):
            return Smoke(spec, SweepSpec.from_yaml(Path(str(path))).train)
    return Smoke(spec, None)


SCENARIOS = scenarios()


@pytest.fixture(params=SCENARIOS, ids=[spec.scenario_id for spec in SCENARIOS])
def smoke(request) -> Smoke:
    """Each registered scenario in turn, with its smoke settings."""
    return smoke_of(request.param)


@pytest.fixture(scope="session")
def trained(ray_session, tmp_path_factory) -> Callable[[Smoke], TrainingResult]:
    """Train a scenario's smoke run once per test session (skip if it ships no smoke sweep)."""
    runs: dict[str, TrainingResult] = {}

    def train(smoke: Smoke) -> TrainingResult:
        scenario_id = smoke.spec.scenario_id
        if smoke.train is None:
            pytest.skip(f"{scenario_id} ships no smoke sweep to train")
        if scenario_id not in runs:
            config = smoke.train.replace(checkpoint_every=1)
            runs[scenario_id] = run_training(config, tmp_path_factory.mktemp(f"contract-{scenario_id}"))
        return runs[scenario_id]

    return train
