"""Decoupling (pinned zero-demand anchors and their links) and bias features."""

from __future__ import annotations

import numpy as np
import pytest

from edgeplace.planners import FREE, AgentConstraint, ConstraintSet, RuleBasedParser, bias_features, decouple
from edgeplace.workloads.agentic_workflows import WorkflowType
from tests.planners.conftest import make_summary, workflow


def test_payment_agent_gets_a_pinned_zero_demand_anchor(summary):
    request = workflow(WorkflowType.TEXT_SEARCH_PAY)  # 6 agents, payment = 4, TEE target 4
    out = decouple(request, RuleBasedParser().parse(request, summary))
    assert (out.num_agents, out.num_nodes, out.num_links) == (6, 7, 6)
    np.testing.assert_array_equal(out.demand[:6], request.demand)
    np.testing.assert_array_equal(out.demand[6], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(out.is_anchor, [0, 0, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(out.pinned_node, [FREE] * 6 + [4])
    np.testing.assert_array_equal(out.anchor_of, [-1] * 6 + [4])
    assert out.affinity == ((),) * 6 + (("tee",),)  # dropped from the agent, kept on the anchor
    np.testing.assert_array_equal(out.has_affinity, [0, 0, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(out.links, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [6, 4]])
    np.testing.assert_allclose(out.link_bandwidth_mbps, [2.0] * 6)
    np.testing.assert_allclose(out.link_data_mb, [0.02] * 5 + [0.01])


def test_camera_anchor_link_carries_frames(summary):
    request = workflow(WorkflowType.TRAFFIC_MONITOR)  # 5 agents, camera_capture = 1, target 5
    out = decouple(request, RuleBasedParser().parse(request, summary))
    assert out.num_nodes == 6
    np.testing.assert_array_equal(out.links[-1], [5, 1])
    assert (out.link_bandwidth_mbps[-1], out.link_data_mb[-1]) == (20.0, 2.0)
    assert out.pinned_node[5] == 5


def test_strict_affinity_keeps_the_attribute_on_the_agent(summary):
    request = workflow(WorkflowType.TEXT_SEARCH_PAY)
    out = decouple(request, RuleBasedParser().parse(request, summary), strict_affinity=True)
    assert out.affinity[4] == ("tee",) and out.affinity[6] == ("tee",)


def test_unconstrained_request_is_unchanged(summary):
    request = workflow(WorkflowType.IMAGE_PROC)
    out = decouple(request, RuleBasedParser().parse(request, summary))
    assert out.num_nodes == request.num_agents and not out.is_anchor.any() and (out.pinned_node == FREE).all()
    np.testing.assert_array_equal(out.links, request.links)
    np.testing.assert_array_equal(out.link_data_mb, request.link_data_mb)


def test_anchors_follow_agent_id_order_and_arrays_are_read_only():
    request = workflow(WorkflowType.TEXT_SEARCH_PAY)
    constraints = ConstraintSet(
        "r-1", (AgentConstraint(4, ("tee",), 2, 0.4, ""), AgentConstraint(1, ("camera",), 5, 0.4, ""))
    )
    out = decouple(request, constraints)
    np.testing.assert_array_equal(out.anchor_of[6:], [1, 4])
    np.testing.assert_array_equal(out.pinned_node[6:], [5, 2])
    np.testing.assert_array_equal(out.links[-2:], [[6, 1], [7, 4]])
    np.testing.assert_allclose(out.link_bandwidth_mbps[-2:], [20.0, 2.0])
    with pytest.raises(ValueError, match="read-only"):
        out.demand[0, 0] = 5.0


def test_infeasible_or_foreign_constraints_are_refused():
    request = workflow(WorkflowType.TRAFFIC_MONITOR)
    no_camera = make_summary(attributes={"tee": np.ones(6, bool), "camera": np.zeros(6, bool)})
    with pytest.raises(ValueError, match="rejected"):
        decouple(request, RuleBasedParser().parse(request, no_camera))
    with pytest.raises(ValueError, match="request_id"):
        decouple(request, ConstraintSet("r-2"))
    with pytest.raises(ValueError, match="agent_id 9"):
        decouple(request, ConstraintSet("r-1", (AgentConstraint(9, ("tee",), 2, 0.4, ""),)))


def test_bias_goes_to_the_target_with_its_flag():
    constraints = ConstraintSet("r", (AgentConstraint(0, ("tee",), 2, 0.4, ""),))
    features = bias_features(4, constraints)
    expected = np.zeros((4, 6))
    expected[2] = [0.4, 0.4, 0.4, 0.0, 0.0, 1.0]
    np.testing.assert_allclose(features, expected)


def test_biases_on_one_target_add_up_and_scale_is_per_feature():
    items = [AgentConstraint(0, ("tee",), 1, 0.4, ""), AgentConstraint(3, ("camera",), 1, 0.1, "")]
    features = bias_features(3, items, bias_scale=(1.0, 0.0, 0.5, 2.0, 0.0, 0.0))
    np.testing.assert_allclose(features[1], [0.5, 0.0, 0.25, 1.0, 0.0, 1.0])
    assert not features[[0, 2]].any()


def test_zero_bias_and_unsatisfiable_entries_leave_no_trace():
    constraints = ConstraintSet(
        "r", (AgentConstraint(0, ("tee",), 2, 0.0, ""),), (AgentConstraint(1, ("camera",), -1, 0.0, ""),)
    )
    assert not bias_features(4, constraints).any()


def test_optional_spread_reaches_two_hops_with_halving():
    hops = np.abs(np.subtract.outer(np.arange(6), np.arange(6)))  # path graph 0-1-2-3-4-5
    features = bias_features(6, [AgentConstraint(0, ("tee",), 2, 0.4, "")], hops=hops)
    np.testing.assert_allclose(features[:, 0], [0.1, 0.2, 0.4, 0.2, 0.1, 0.0])
    np.testing.assert_array_equal(features[:, 5], [0, 0, 1, 0, 0, 0])


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"bias_scale": (1.0, 1.0, 1.0)}, "bias_scale"),
        ({"hops": np.zeros((3, 3))}, "hops"),
        ({"constraints": [AgentConstraint(0, ("tee",), 4, 0.4, "")]}, "target_node"),
    ],
)
def test_bias_features_reject_bad_input(kwargs, field):
    arguments = {"num_nodes": 4, "constraints": [], **kwargs}
    with pytest.raises(ValueError, match=field):
        bias_features(**arguments)
