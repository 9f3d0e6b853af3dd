"""The soft planner protocol of the metaverse-dag scenario (papers/llm-mappo.md, section d): the registry,
the heuristic backend, the plan embedding and the policy prior (Eq. 33)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.envs.metaverse_dag import MetaverseDagEnv
from edgeplace.planners.soft_plans import (
    AgentPlan,
    PlanContext,
    PlanEvent,
    Tier,
    make_planner,
    plan_embedding,
    plan_summary,
    planner_names,
    policy_prior,
)
from edgeplace.planners.soft_plans.heuristic import SPARE_NONE_MASS, HeuristicPlanner, heuristic_bindings
from edgeplace.planners.soft_plans.prior import PRIOR_THRESHOLD, PRIOR_UNIFORM_SHARE


class CapturingPlanner(HeuristicPlanner):
    """The heuristic backend, keeping every context and outcome it is handed."""

    def __init__(self) -> None:
        super().__init__()
        self.contexts: list[PlanContext] = []
        self.outcomes = []

    def plan(self, context: PlanContext) -> dict[int, AgentPlan]:
        self.contexts.append(context)
        return super().plan(context)

    def record(self, outcome) -> None:
        self.outcomes.append(outcome)
        super().record(outcome)


@pytest.fixture(scope="module")
def context() -> PlanContext:
    env = MetaverseDagEnv({"planner": "heuristic", "horizon": 3})
    env.planning.planner = planner = CapturingPlanner()
    env.reset(seed=0)
    return planner.contexts[0]


def test_registry_names_backends_and_refuses_unknown_ones():
    assert planner_names()[:2] == ["none", "heuristic"]
    assert make_planner("none") is None
    assert isinstance(make_planner("heuristic"), HeuristicPlanner)
    with pytest.raises(ValueError, match=r"unknown planner 'oracle'.*heuristic"):
        make_planner("oracle")
    with pytest.raises(ValueError, match="takes no options"):
        make_planner("heuristic", options={"k": 1})


def test_heuristic_bindings_are_distributions_over_allowed_options(context):
    for region in range(context.num_regions):
        p = heuristic_bindings(context, region)
        allowed = context.place_mask[region]
        assert np.allclose(p.sum(axis=1), 1.0)
        assert (p[~allowed] == 0).all()


def test_heuristic_prefers_idle_near_hosts_and_spares_unneeded_replicas(context):
    p = heuristic_bindings(context, 0)
    none = context.num_options - 1
    hosts = context.place_mask[0].copy()
    hosts[:, none] = False
    score = context.util[0] + context.centroid_delay_s[0] / 1e-3
    first = int(np.flatnonzero(context.slot_valid & (context.slot_rep == 0))[0])
    assert p[first].argmax() == np.where(hosts[first], score, np.inf).argmin()
    spare = context.slot_valid & (context.slot_rep >= 1)  # no load at reset: one replica each
    assert np.allclose(p[spare, none], SPARE_NONE_MASS)


def test_policy_prior_thresholds_renormalises_and_mixes_uniform():
    allowed = np.array([[True, True, True, False], [True, True, False, False]])
    p = np.array([[0.9, 0.06, 0.04, 0.0], [0.01, 0.02, 0.97, 0.0]])
    prior = policy_prior(p, allowed)
    uniform = PRIOR_UNIFORM_SHARE / 3
    expected_first = np.array([0.9 / 0.96, 0.06 / 0.96, 0.0, 0.0]) * (1 - PRIOR_UNIFORM_SHARE)
    assert np.allclose(prior[0], expected_first + [uniform, uniform, uniform, 0.0])
    assert np.allclose(prior[1], [0.5, 0.5, 0.0, 0.0])  # nothing allowed reaches delta: uniform
    assert PRIOR_THRESHOLD == 0.05 and np.allclose(prior.sum(axis=1), 1.0)


def test_plan_embedding_is_64_wide_and_reads_every_part(context):
    p = heuristic_bindings(context, 0)
    summary = plan_summary(p, context.option_tier[0], context.slot_class, context.slot_valid)
    assert summary.shape == (15,)
    per_class = summary.reshape(3, 5)
    assert np.allclose(per_class[:, 1:].sum(axis=1), 1.0)  # tier masses of a distribution
    w, psi = np.array([0.4, 0.2, 0.2, 0.2]), np.full(3, 0.5)
    z = plan_embedding(w, summary, psi, 0.5)
    assert z.shape == (64,) and z.dtype == np.float32
    for changed in (
        plan_embedding(w[::-1], summary, psi, 0.5),
        plan_embedding(w, summary * 0.5, psi, 0.5),
        plan_embedding(w, summary, psi * 0.5, 0.5),
        plan_embedding(w, summary, psi, 0.9),
    ):
        assert not np.allclose(changed, z)


def test_context_describes_the_regions_options(context):
    k, o = context.option_tier.shape
    assert context.event is PlanEvent.RESET and context.agents.tolist() == list(range(k))
    assert (context.option_tier[:, -1] == Tier.NONE).all() and (context.option_tier[:, -3] == Tier.EC).all()
    assert (context.free <= context.capacity + 1e-9).all()
    assert context.telemetry.shape == (k, 6, 5) and not context.telemetry.any()
    assert context.place_mask.shape == (k, context.num_slots, o)
