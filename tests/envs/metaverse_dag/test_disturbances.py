"""Disturbances and consecutive windows of the metaverse-dag env (papers/llm-mappo.md, sections c and g):
the Fig. 7b surge, recovery KPIs (Fig. 7) and the carry-over of the 24-h evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines.metaverse_dag import GreedyPolicy
from edgeplace.envs.base import ALL_AGENTS, KPI_INFO_KEY
from edgeplace.envs.metaverse_dag import MetaverseDagEnv, MvKpi
from edgeplace.envs.metaverse_dag.kpis import KpiLog
from edgeplace.envs.metaverse_dag.metrics import StepMetrics
from edgeplace.policy import act


def episode(env: MetaverseDagEnv, seed: int) -> tuple[dict, list[np.ndarray]]:
    policy = GreedyPolicy(env.cfg)
    observations, _ = env.reset(seed=seed)
    rates = []
    while True:
        rates.append(env._rates())
        observations, _, _, truncated, infos = env.step(act(policy, observations))
        if truncated[ALL_AGENTS]:
            return infos["ec_0"][KPI_INFO_KEY], rates


def test_surge_triples_the_dense_zone_rates_for_its_steps_only():
    config = {"horizon": 6, "load": 50.0}
    _, plain = episode(MetaverseDagEnv(config), 0)
    surged_env = MetaverseDagEnv({**config, "surge_factor": 3.0, "surge_step": 2, "surge_steps": 2})
    kpis, surged = episode(surged_env, 0)
    dense = surged_env.dense_es
    ratio = np.array(surged) / np.array(plain)
    assert dense.any() and np.allclose(ratio[2:4][:, dense], 3.0) and np.allclose(ratio[2:4][:, ~dense], 1.0)
    assert np.allclose(ratio[[0, 1, 4, 5]], 1.0)
    assert kpis[MvKpi.PEAK_LATENCY_RATIO] >= 1.0 and kpis[MvKpi.RECOVERY_S] % 10.0 == 0


def test_undisturbed_episodes_report_no_recovery():
    kpis, _ = episode(MetaverseDagEnv({"horizon": 3}), 0)
    assert kpis[MvKpi.RECOVERY_S] == 0.0 and kpis[MvKpi.PEAK_LATENCY_RATIO] == 1.0


def _steps(latency: list[float], success: list[float]) -> KpiLog:
    log = KpiLog(disturbance_step=2, step_s=10.0)
    for lat, ok in zip(latency, success, strict=True):
        log.metrics.append(StepMetrics.__new__(StepMetrics))
        object.__setattr__(log.metrics[-1], "latency_s", lat)
        object.__setattr__(log.metrics[-1], "success", ok)
    return log


@pytest.mark.parametrize(
    ("latency", "success", "expected"),
    [
        ([1.0, 1.0, 3.0, 1.05, 1.0, 1.0], [1.0] * 6, (10.0, 3.0)),  # bad at step 2 only: good from step 3
        ([1.0, 1.0, 3.0, 1.0, 2.0, 1.0], [1.0] * 6, (30.0, 3.0)),  # a relapse at step 4 counts
        ([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.5, 1.0, 1.0, 1.0], (10.0, 1.0)),  # success dip
        ([1.0, 1.0, 2.0, 2.0, 2.0, 2.0], [1.0] * 6, (40.0, 2.0)),  # never recovers: censored
    ],
)
def test_recovery_is_the_time_to_the_last_bad_step(latency, success, expected):
    recovery, peak = _steps(latency, success).recovery()
    assert (recovery, peak) == pytest.approx(expected)


def played(config: dict) -> MetaverseDagEnv:
    env = MetaverseDagEnv(config)
    policy = GreedyPolicy(env.cfg)
    observations, _ = env.reset(seed=0)
    while True:
        observations, _, _, truncated, _ = env.step(act(policy, observations))
        if truncated[ALL_AGENTS]:
            return env


def test_carry_over_keeps_placement_templates_and_clock():
    env = played({"horizon": 3, "carry_over": True, "start_hour": 5.0})
    choice, templates = env.choice.copy(), env.templates
    env.reset(seed=1)
    assert np.array_equal(env.choice, choice) and env.templates is templates
    assert env.arrivals.hour(0.0) == pytest.approx(5.0 + 30.0 / 3600)
    fresh = played({"horizon": 3, "start_hour": 5.0})
    placed = fresh.choice.copy()
    fresh.reset(seed=1)
    assert not np.array_equal(fresh.choice, placed) and fresh.arrivals.hour(0.0) == pytest.approx(5.0)


def test_bad_disturbance_settings_are_refused_by_name():
    with pytest.raises(ValueError, match="surge_factor must be >= 1"):
        MetaverseDagEnv({"surge_factor": 0.5})
    with pytest.raises(ValueError, match="surge_step must be in"):
        MetaverseDagEnv({"horizon": 4, "surge_step": 4})
    with pytest.raises(ValueError, match="carry_over must be true or false"):
        MetaverseDagEnv({"carry_over": "yes"})
