"""The rule policies of the lm-inference baselines and rule backend (spec d and e): schedulers,
deployers and the OPT planner (its case memory included), each checked on hand-made cluster views."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeplace.algos.baselines.lm_inference.dpp import DppDeployer, DppSettings, smooth
from edgeplace.algos.baselines.lm_inference.fixed_deployers import (
    FullActivationDeployer,
    RandomDeployer,
    full_activation,
)
from edgeplace.algos.baselines.lm_inference.hierarchies import HIERARCHIES, make_hierarchy
from edgeplace.algos.baselines.lm_inference.jsq import JsqScheduler
from edgeplace.algos.baselines.lm_inference.opt_planner import (
    OptPlanner,
    OptSettings,
    opt_context,
    plan_score,
)
from edgeplace.algos.baselines.lm_inference.role_deployer import RoleDeployer
from edgeplace.algos.baselines.lm_inference.routing import (
    LocalScheduler,
    RandomScheduler,
    RoundRobinScheduler,
)
from edgeplace.envs.lm_inference.case_memory import Case
from edgeplace.envs.lm_inference.catalogue import catalogue
from edgeplace.envs.lm_inference.cluster import Cluster
from edgeplace.envs.lm_inference.cluster_view import ClusterView
from edgeplace.envs.lm_inference.plan import Plan
from edgeplace.envs.lm_inference.pod import PodState
from edgeplace.envs.lm_inference.telemetry import EpochTelemetry
from tests.envs.lm_inference.conftest import (
    CPU,
    GPU,
    LM1,
    LM3,
    LM4,
    OFF,
    PARAMS,
    VM2,
    VM3,
    VM4,
    VM7,
    blank_view,
    config,
)

ALL_REQUEST = np.ones((6, 4), dtype=np.int64)


def test_random_routing_covers_the_feasible_nodes_only(cluster):
    scheduler, view = RandomScheduler(cluster, 0), blank_view(cluster, demand=ALL_REQUEST)
    plan = Plan.uniform(cluster)
    picks = np.stack([scheduler.route(view, plan) for _ in range(300)])  # (300, N origin, I)
    for lm in range(4):
        assert set(np.unique(picks[..., lm])) == set(np.flatnonzero(cluster.can_host[:, lm]))
    again = RandomScheduler(cluster, 0)
    np.testing.assert_array_equal(picks[:5], np.stack([again.route(view, plan) for _ in range(5)]))


def test_round_robin_starts_at_the_origin_and_skips_infeasible_nodes(cluster):
    scheduler, plan = RoundRobinScheduler(cluster), Plan.uniform(cluster)
    demand = np.zeros((6, 4), np.int64)
    demand[VM4] = 1
    view = blank_view(cluster, demand=demand)
    firsts = [scheduler.route(view, plan)[VM4] for _ in range(6)]
    assert [f[LM1] for f in firsts] == [2, 3, 4, 5, 0, 1]  # LM1: all six nodes from VM4 (index 2)
    assert [f[LM4] for f in firsts] == [3, 4, 5, 1, 2, 3]  # LM4: VM3..VM7, from the origin's index mod 5
    assert scheduler.route(view, plan)[VM3, LM1] == VM3  # no request from VM3 yet: its pointer stayed


def test_local_routing_keeps_requests_at_their_origin(cluster):
    dest = LocalScheduler().route(blank_view(cluster, demand=ALL_REQUEST), Plan.uniform(cluster))
    assert (dest == np.arange(6)[:, None]).all()


def test_full_activation_is_the_spec_configuration(cluster):
    assert full_activation(cluster, VM2) == config(LM1=(CPU, 11, 0), LM2=(CPU, 11, 0))
    assert full_activation(cluster, VM3) == config(
        LM1=(CPU, 4, 0), LM2=(CPU, 4, 0), LM3=(GPU, 3, 1), LM4=(GPU, 3, 1)
    )
    assert full_activation(cluster, VM7) == config(
        LM1=(GPU, 4, 1), LM2=(GPU, 4, 1), LM3=(GPU, 3, 1), LM4=(GPU, 3, 1)
    )
    deployer = FullActivationDeployer(cluster)
    assert all(deployer.deploy(blank_view(cluster, slot=0), Plan.uniform(cluster)))
    assert not any(deployer.deploy(blank_view(cluster, slot=1), Plan.uniform(cluster)))


def test_random_deployer_redraws_a_fifth_of_the_nodes_and_respects_locks(cluster):
    deployer, plan = RandomDeployer(cluster, PARAMS, 0), Plan.uniform(cluster)
    assert all(deployer.deploy(blank_view(cluster, slot=0), plan))
    state = np.zeros((6, 4), np.int64)
    state[:, LM1] = PodState.INIT
    mode = np.zeros((6, 4), np.int64)
    mode[:, LM1] = CPU
    view = blank_view(cluster, pod_state=state, mode=mode, cores=mode * 4)
    decisions = [deployer.deploy(view, plan) for _ in range(300)]
    redrawn = [c for slot in decisions for c in slot if c is not None]
    # 1,800 node-slots at p = 0.2: standard error 0.0094.
    assert len(redrawn) / 1800 == pytest.approx(0.2, abs=0.04)
    assert all(c.mode[LM1] == CPU for c in redrawn)
    for n, c in ((n, c) for slot in decisions for n, c in enumerate(slot) if c is not None):
        c.check_fits(cluster, n)


def test_dpp_score_is_eq_15(cluster):
    settings = DppSettings()
    backlog = np.zeros((6, 4), np.int64)
    backlog[VM3] = [4, 0, 2, 10]
    eta = np.full(6, 0.5)
    mode = np.zeros((6, 4), np.int64)
    mode[VM3, LM1] = CPU
    view = blank_view(cluster, backlog_prompts=backlog, mode=mode, eta_cpu=eta, eta_gpu=eta, eta_mem=eta)
    vector = np.array([[CPU, OFF, GPU, GPU]])
    f = smooth(0.5)
    gain = 4 * f * f + 2 * 1.5 * f + 10 * 1.5 * f
    price = settings.p0 + settings.p1 * 0.5 + settings.p2 * 12 / 16
    churn = settings.churn * ((1 + settings.kappa * 2) + (1 + settings.kappa * 10))
    score = DppDeployer(cluster, PARAMS, settings).scores(view, VM3, vector)
    assert score[0] == pytest.approx(gain - (2 * price + churn))


def test_dpp_activates_what_is_queued_and_keeps_an_idle_node(cluster):
    deployer, plan = DppDeployer(cluster, PARAMS), Plan.uniform(cluster)
    assert not any(deployer.deploy(blank_view(cluster), plan))
    backlog = np.zeros((6, 4), np.int64)
    backlog[VM3, LM4] = 20
    configs = deployer.deploy(blank_view(cluster, backlog_prompts=backlog), plan)
    assert configs[VM3] == config(LM4=(GPU, 2, 2)) and configs[VM4] is None


def ready_pods(cluster: Cluster, lm: int, nodes: list[int], **fields: np.ndarray) -> ClusterView:
    """A view where ``lm`` runs READY on ``nodes`` with 1 vGPU and 2 host cores."""
    mode = np.zeros((6, 4), np.int64)
    mode[nodes, lm] = GPU
    return blank_view(
        cluster,
        mode=mode,
        pod_state=np.where(mode == GPU, PodState.READY, PodState.OFF),
        cores=np.where(mode == GPU, 2, 0),
        vgpus=np.where(mode == GPU, 1, 0),
        **fields,
    )


def test_jsq_sends_each_request_to_the_in_role_node_with_the_least_expected_wait(cluster):
    backlog = np.zeros((6, 4), np.int64)
    backlog[:, LM3] = [0, 30, 0, 0, 5, 5]
    demand = np.zeros((6, 4), np.int64)
    demand[[VM3, VM4], LM3] = 4
    view = ready_pods(cluster, LM3, [VM3, VM4, 3, 4, VM7], demand=demand, backlog_prompts=backlog)
    weights = np.zeros((4, 6), np.int64)
    weights[LM3, [VM3, VM4, 4, VM7]] = 1  # VM5 (index 3, empty) is out of role
    dest = JsqScheduler(cluster, PARAMS).route(view, Plan.from_weights(weights, cluster))
    # VM3 (first in order) skips its own 30-prompt queue for empty VM4 (4 x 1.69 s + < 1 s transfers);
    # VM4's request then finds 4 prompts there, still fewer than the 5 (+ transfers) of VM6 and VM7.
    assert dest[VM3, LM3] == VM4 and dest[VM4, LM3] == VM4


def test_jsq_breaks_ties_by_planned_share_then_index(cluster):
    demand = np.zeros((6, 4), np.int64)
    demand[VM2, LM4] = 1
    view = ready_pods(cluster, LM4, [VM4, VM7], demand=demand)  # both at another site than VM2
    scheduler, weights = JsqScheduler(cluster, PARAMS), np.zeros((4, 6), np.int64)
    weights[LM4, [VM4, VM7]] = 1
    assert scheduler.route(view, Plan.from_weights(weights, cluster))[VM2, LM4] == VM4
    weights[LM4, VM7] = 2
    assert scheduler.route(view, Plan.from_weights(weights, cluster))[VM2, LM4] == VM7


def test_plan_score_has_a_stable_and_an_overloaded_branch():
    settings = OptSettings()
    capacity, active = np.array([1.0, 1.0]), np.array([2.0, 1.0])
    demand = np.array([0.5, 0.9])
    stable = 4.5 * 2 / (1 - 0.5)
    overloaded = 4.5 * 1 / 0.25 + 1e4 * (0.9 - 0.75)
    assert plan_score(capacity, active, demand, settings) == pytest.approx(stable + overloaded)


def telemetry_of(demand_prompts_s: np.ndarray) -> EpochTelemetry:
    return EpochTelemetry(0, 50, 1500.0, demand_prompts_s * 1500.0, np.ones(4), np.ones(4))


def test_opt_plan_is_uniform_first_then_a_local_optimum(cluster):
    planner = OptPlanner(cluster, PARAMS, 0)
    view = blank_view(cluster)
    assert planner.plan(view, None).config_hint is None
    plan = planner.plan(view, telemetry_of(np.full(4, 0.27)))
    assert plan.config_hint is not None
    np.testing.assert_allclose(plan.routing.sum(axis=1), 1.0)
    hinted_active = np.array([c.active for c in plan.config_hint])
    np.testing.assert_array_equal(plan.roles, hinted_active)
    assert (plan.routing.T[~plan.roles] == 0).all()
    # No single node can improve the score by switching entry.
    best = planner.score(planner.choice)
    for n, entries in enumerate(planner.entries):
        for e in range(len(entries)):
            trial = planner.choice.copy()
            trial[n] = e
            assert planner.score(trial) >= best - 1e-9


@pytest.mark.parametrize(("margin", "replaced"), [(0.0, True), (1.0, False)])
def test_opt_keeps_its_plan_unless_the_improvement_clears_the_margin(cluster, margin, replaced):
    planner = OptPlanner(cluster, PARAMS, 0, OptSettings(keep_margin=margin))
    planner.plan(blank_view(cluster), telemetry_of(np.array([0.27, 0.27, 0.27, 0.02])))
    first = planner.choice.copy()
    planner.plan(blank_view(cluster), telemetry_of(np.array([0.02, 0.02, 0.02, 0.4])))
    assert (not np.array_equal(first, planner.choice)) == replaced


def test_role_deployer_enacts_roles_or_the_hint_and_then_keeps_quiet(cluster):
    deployer = RoleDeployer(cluster, PARAMS)
    uniform = Plan.uniform(cluster)
    targets = deployer.targets(uniform)
    assert [t.active.tolist() for t in targets] == [[True, True, False, False]] + [[True] * 4] * 5
    for n, target in enumerate(targets):
        assert target in catalogue(cluster, n, PARAMS)
    hint = tuple(catalogue(cluster, n, PARAMS)[1] for n in range(6))
    hinted = Plan(uniform.routing, uniform.roles, config_hint=hint)
    assert deployer.deploy(blank_view(cluster), hinted) == list(hint)
    reached = blank_view(
        cluster,
        mode=np.array([h.mode for h in hint]),
        cores=np.array([h.cores for h in hint]),
        vgpus=np.array([h.vgpus for h in hint]),
    )
    assert deployer.deploy(reached, hinted) == [None] * 6


def test_every_named_controller_builds_and_unknown_names_are_listed(cluster):
    for name in HIERARCHIES:
        assert make_hierarchy(name, cluster, PARAMS, 0).name == name
    with pytest.raises(ValueError, match="unknown lm-inference controller 'ma'.*'ma-rule'"):
        make_hierarchy("ma", cluster, PARAMS, 0)


# --- the OPT planner's memory ---------------------------------------------------------------------

TELEMETRY = telemetry_of(np.full(4, 0.27))


def remembered(planner: OptPlanner, plan: tuple, objective: float) -> Case:
    """A case of ``plan`` in the context of :data:`TELEMETRY` on a blank view."""
    context = opt_context(blank_view(planner.cluster), TELEMETRY)
    return Case(np.zeros(8), context, objective, planner.memory.next_epoch, plan)


def first_choice(cluster: Cluster, settings: OptSettings | None = None) -> OptPlanner:
    """A planner (seed 0) after its first searched plan, with an empty memory."""
    planner = OptPlanner(cluster, PARAMS, 0, settings)
    planner.plan(blank_view(cluster), TELEMETRY)
    return planner


def test_opt_records_each_measured_epoch_of_its_plan(cluster):
    planner = first_choice(cluster)
    assert planner.memory.cases == []  # epoch 0 ran the uniform plan
    chosen = planner.choice.copy()
    planner.plan(blank_view(cluster), TELEMETRY)
    (case,) = planner.memory.cases
    assert case.plan == planner.configs(chosen) and case.epoch == 0
    np.testing.assert_array_equal(case.context, opt_context(blank_view(cluster), TELEMETRY))
    assert case.objective == pytest.approx(planner.score(chosen))  # measured demand = D after one epoch


@pytest.mark.parametrize(("ratio", "vetoed"), [(1.4, False), (1.6, True)])
def test_opt_vetoes_a_plan_recorded_worse_than_1_5_times_the_best_in_a_similar_context(
    cluster, ratio, vetoed
):
    chosen = first_choice(cluster).choice
    planner = OptPlanner(cluster, PARAMS, 0)
    other = planner.configs(np.ones(6, dtype=np.int64))
    planner.memory.add(remembered(planner, other, 1.0))
    planner.memory.add(remembered(planner, planner.configs(chosen), ratio))
    planner.plan(blank_view(cluster), TELEMETRY)
    assert np.array_equal(planner.choice, chosen) != vetoed


def test_a_vetoed_plan_in_force_is_replaced_whatever_the_margin(cluster):
    planner = first_choice(cluster, OptSettings(keep_margin=1.0))
    chosen = planner.choice.copy()
    recorded = planner.score(chosen)  # what the next planning records for it
    planner.memory.add(remembered(planner, planner.configs(np.ones(6, dtype=np.int64)), recorded / 2))
    planner.plan(blank_view(cluster), TELEMETRY)
    assert not np.array_equal(planner.choice, chosen)


def test_opt_starts_from_the_best_remembered_plan(cluster):
    optimum = first_choice(cluster).choice  # a local optimum of this demand
    planner = OptPlanner(cluster, PARAMS, 0, OptSettings(random_starts=0))
    planner.memory.add(remembered(planner, planner.configs(np.ones(6, dtype=np.int64)), 2.0))
    planner.memory.add(remembered(planner, planner.configs(optimum), 1.0))
    planner.plan(blank_view(cluster), TELEMETRY)  # its only start: the memory's best
    np.testing.assert_array_equal(planner.choice, optimum)


def test_a_saved_opt_memory_seeds_another_planner_and_a_foreign_plan_is_refused(cluster, tmp_path):
    planner = first_choice(cluster)
    for _ in range(3):
        planner.plan(blank_view(cluster), TELEMETRY)
    path = tmp_path / "opt.jsonl"
    planner.memory.save(path)
    seeded = OptPlanner(cluster, PARAMS, 1, memory_file=path)
    assert [c.plan for c in seeded.memory.cases] == [c.plan for c in planner.memory.cases]
    lines = path.read_text().splitlines()
    foreign = json.loads(lines[1])
    foreign["plan"] = foreign["plan"][:5]
    path.write_text("\n".join([lines[0], json.dumps(foreign)]) + "\n")
    with pytest.raises(ValueError, match="opt.jsonl', line 2: field 'plan': expected 6 node configurations"):
        OptPlanner(cluster, PARAMS, 1, memory_file=path)
