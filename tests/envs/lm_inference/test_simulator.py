"""The simulator's decision interface (phase order, input checks) and whole runs: determinism,
every measured request resolved by the drain, and the plan/telemetry plumbing."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.algos.baselines.lm_inference.hierarchies import make_hierarchy
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.episode import RunSpec, run_episode
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.request_log import Outcome
from edgeplace.envs.lm_inference.simulator import LmInferenceSim
from edgeplace.envs.lm_inference.telemetry import epoch_telemetry
from edgeplace.topology import load_topology
from edgeplace.workloads.lm_inference import Workload
from tests.envs.lm_inference.conftest import CPU, LM1, PARAMS, VM3, config, step, workload

SHORT = RunSpec(epochs=3)


def test_decisions_must_come_in_phase_order(cluster):
    sim = LmInferenceSim(cluster, workload(1), PARAMS)
    with pytest.raises(RuntimeError, match="advance: slot 0 needs route"):
        sim.advance()
    with pytest.raises(RuntimeError, match="deploy: slot 0 is in phase 'route'"):
        sim.deploy([None] * 6)
    step(sim)
    assert sim.done
    with pytest.raises(RuntimeError, match="the episode has ended"):
        sim.advance()


@pytest.mark.parametrize(
    ("destinations", "match"),
    [
        (np.zeros((6, 3), np.int64), "destinations: expected shape"),
        (np.full((6, 4), 6), r"destinations\[VM3, LM1\] = 6: expected a node index in \[0, 6\)"),
        (np.zeros((6, 4)), "destinations: expected integer"),
    ],
)
def test_bad_destinations_are_rejected_naming_the_pair(cluster, destinations, match):
    sim = LmInferenceSim(cluster, workload(1, (0, VM3, LM1, 1)), PARAMS)
    with pytest.raises(ValueError, match=match):
        sim.route(destinations)


def test_bad_deployments_are_rejected_naming_node_and_field(cluster):
    sim = LmInferenceSim(cluster, workload(1), PARAMS)
    sim.route(np.zeros((6, 4), np.int64))
    with pytest.raises(ValueError, match="one per node"):
        sim.deploy([None])
    with pytest.raises(ValueError, match="VM3: field 'cores'"):
        sim.deploy([None, config(LM1=(CPU, 15, 0)), None, None, None, None])


def test_bad_workloads_are_rejected(cluster):
    with pytest.raises(ValueError, match="prompts: expected shape"):
        LmInferenceSim(cluster, np.zeros((3, 5, 4), np.int64), PARAMS)
    with pytest.raises(ValueError, match="non-negative integers"):
        LmInferenceSim(cluster, -np.ones((3, 6, 4), np.int64), PARAMS)


@pytest.mark.parametrize("name", ["rr", "mal"])
def test_same_seed_same_run(cluster, name):
    runs = [run_episode(cluster, make_hierarchy(name, cluster, PARAMS, 3), 3, SHORT) for _ in range(2)]
    (first, result), (again, result_again) = runs
    for field in ("dest", "outcome", "resolved_s", "service_s"):
        np.testing.assert_array_equal(getattr(first.log, field), getattr(again.log, field))
    assert result.kpis.as_dict() == result_again.kpis.as_dict() and result.counts == result_again.counts
    other, _ = run_episode(cluster, make_hierarchy(name, cluster, PARAMS, 4), 4, SHORT)
    assert not np.array_equal(first.log.prompts, other.log.prompts)


def test_every_measured_request_resolves_before_the_run_ends(cluster):
    sim, result = run_episode(cluster, make_hierarchy("rl", cluster, PARAMS, 0), 0, SHORT)
    first, end = SHORT.cohort_slots(PARAMS)
    measured = (sim.log.slot >= first) & (sim.log.slot < end)
    assert (sim.log.outcome[measured] != Outcome.UNRESOLVED).all()
    assert result.kpis.arrivals.sum() == measured.sum()
    assert result.counts.restarts > 0 and result.counts.creations > 0


def test_epoch_telemetry_measures_demand_and_service_time(cluster):
    sim, _ = run_episode(cluster, make_hierarchy("rf", cluster, PARAMS, 1), 1, RunSpec(epochs=2))
    telemetry = epoch_telemetry(sim, 50, 100)
    window = (sim.log.slot >= 50) & (sim.log.slot < 100)
    offered = np.bincount(sim.log.lm[window], weights=sim.log.prompts[window], minlength=4)
    np.testing.assert_allclose(telemetry.demand_prompts_s, offered / 1500.0)
    # Under RF, LM3 always shares its GPU with LM4, which is nearly always busy: 1 / (1 - theta) slower.
    # LM1/LM2 share only on VM7 (each other), LM4 only while the lightly loaded LM3 runs.
    correction = telemetry.service_correction()
    assert correction[2] == pytest.approx(1 / (1 - PARAMS.sharing_slowdown), rel=0.01)
    assert (correction[[0, 1, 3]] > 1.0).all() and (correction[[0, 1, 3]] < 1.05).all()
    with pytest.raises(ValueError, match="window"):
        epoch_telemetry(sim, 90, 120)


def test_plans_from_weights_follow_eq_12_and_13(cluster):
    weights = np.zeros((4, 6), np.int64)
    weights[0, [0, 1]] = [1, 3]
    plan = Plan.from_weights(weights, cluster)
    np.testing.assert_allclose(plan.routing[0], [0.25, 0.75, 0, 0, 0, 0])
    np.testing.assert_allclose(plan.routing[3], [0, 0.2, 0.2, 0.2, 0.2, 0.2])  # all-zero row: uniform
    assert plan.roles[:, 0].tolist() == [True, True, False, False, False, False] and plan.roles[1:, 3].all()
    weights[3, 0] = 1  # LM4 on VM2, which has no GPU
    with pytest.raises(ValueError, match="never host"):
        Plan.from_weights(weights, cluster)


@pytest.mark.parametrize("name", ["rf", "ma-rule"])
def test_controllers_run_on_other_topologies_and_workloads(name):
    other = Cluster.from_substrate(load_topology("waxman:nodes=9,seed=2"), hardware_seed=1)
    spec = RunSpec(epochs=2, drain_slots=30, workload=Workload.REGIME)
    sim, result = run_episode(other, make_hierarchy(name, other, PARAMS, 0), 0, spec)
    assert sim.prompts.shape == (100, 9, 4)
    assert result.kpis.arrivals.sum() > 0 and 0 <= result.kpis.jain_norm <= 1
