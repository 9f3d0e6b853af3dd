"""The rule-based parser: spec c's vocabularies, whole-word matching, the target rule, infeasibility."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from edgeplace.planners import NO_TARGET, AgentConstraint, RuleBasedParser, parse_constraint_json
from edgeplace.planners.rule_based import words
from edgeplace.workloads.agentic_workflows import WorkflowType
from tests.planners.conftest import custom_request, make_summary, workflow

PARSER = RuleBasedParser()


@pytest.mark.parametrize("kind", [WorkflowType.TEXT_SEARCH, WorkflowType.IMAGE_PROC])
def test_workflows_without_affinity_get_no_constraint(kind, summary):
    result = PARSER.parse(workflow(kind), summary)
    assert result.constraints == () and not result.infeasible
    assert result.request_id == "r-1"


def test_payment_agent_of_text_search_pay_needs_tee_on_best_holder(summary):
    request = workflow(WorkflowType.TEXT_SEARCH_PAY)
    (constraint,) = PARSER.parse(request, summary).constraints
    assert request.agents[constraint.agent_id].name == "payment"
    # No data source: TEE holders are 2 (mean residual 0.5) and 4 (0.8) -> 4.
    assert (constraint.agent_id, constraint.required_attributes, constraint.target_node) == (4, ("tee",), 4)
    assert constraint.bias == 0.4
    assert "payment" in constraint.reason


def test_camera_capture_of_traffic_monitor_needs_camera(summary):
    request = workflow(WorkflowType.TRAFFIC_MONITOR)
    (constraint,) = PARSER.parse(request, summary).constraints
    assert request.agents[constraint.agent_id].name == "camera_capture"
    assert (constraint.agent_id, constraint.required_attributes, constraint.target_node) == (
        1,
        ("camera",),
        5,
    )


@pytest.mark.parametrize("kind", list(WorkflowType))
def test_parser_finds_exactly_the_generator_ground_truth(kind, summary):
    request = workflow(kind)
    found = {c.agent_id: c.required_attributes for c in PARSER.parse(request, summary).constraints}
    assert found == {agent.id: agent.affinity for agent in request.agents if agent.affinity}


@pytest.mark.parametrize(
    "name, role, tools",
    [
        ("image_loader", "Loads an image and image files", ("image_store",)),
        ("image_capture", "Reads images", ()),
        ("paypal_lookup", "Looks up teeth records in a bankruptcy archive", ("prepayment",)),
        ("live", "video of the stored clip", ("recorded_video",)),  # "live video" split across fields
        ("cameraman", "Writes the script", ("framecapture",)),
    ],
)
def test_partial_words_and_image_never_match(name, role, tools, summary):
    result = PARSER.parse(custom_request((name, role, tools)), summary)
    assert result.constraints == () and not result.infeasible


@pytest.mark.parametrize(
    "role, tools, attribute",
    [
        ("Stores the Credit-Card token", (), "tee"),
        ("Checks the patient file", (), "tee"),
        ("Signs with the private_key", (), "tee"),
        ("Runs in SGX", (), "tee"),
        ("Reads frames", ("capture_frames",), "camera"),
        ("Does frame-capture at the gate", (), "camera"),
        ("Watches the CCTV feed", (), "camera"),
        ("Pulls the live video", (), "camera"),
    ],
)
def test_words_and_phrases_match_across_case_and_separators(role, tools, attribute, summary):
    (constraint,) = PARSER.parse(custom_request(("worker", role, tools)), summary).constraints
    assert constraint.required_attributes == (attribute,)


def test_words_normalises_separators_and_case():
    assert words("Camera_Capture--Live  VIDEO!") == "camera capture live video"


def test_data_source_node_is_the_target_when_it_holds_the_attributes(summary):
    (constraint,) = PARSER.parse(
        workflow(WorkflowType.TEXT_SEARCH_PAY, data_source_node=2), summary
    ).constraints
    assert constraint.target_node == 2  # although node 4 has more residual resources


def test_data_source_node_without_the_attributes_falls_back_to_best_holder(summary):
    (constraint,) = PARSER.parse(
        workflow(WorkflowType.TEXT_SEARCH_PAY, data_source_node=0), summary
    ).constraints
    assert constraint.target_node == 4


def test_equal_residual_holders_tie_to_the_lower_id():
    summary = make_summary(mean_residual=(0.9, 0.9, 0.6, 0.9, 0.6, 0.3))
    (constraint,) = PARSER.parse(workflow(WorkflowType.TEXT_SEARCH_PAY), summary).constraints
    assert constraint.target_node == 2


def test_target_uses_the_mean_over_resources():
    summary = make_summary()
    residual = np.array(summary.residual_fraction)
    residual[2] = (0.7, 0.7, 0.7)  # mean 0.7
    residual[4] = (1.0, 0.5, 0.5)  # more compute, but mean 0.667
    summary = type(summary)(summary.attributes, residual, summary.degree)
    (constraint,) = PARSER.parse(workflow(WorkflowType.TEXT_SEARCH_PAY), summary).constraints
    assert constraint.target_node == 2


def test_no_holder_marks_the_set_infeasible():
    no_camera = {"tee": np.ones(6, bool), "camera": np.zeros(6, bool)}
    result = PARSER.parse(workflow(WorkflowType.TRAFFIC_MONITOR), make_summary(attributes=no_camera))
    assert result.infeasible and result.constraints == ()
    (entry,) = result.unsatisfiable
    assert (entry.agent_id, entry.required_attributes, entry.target_node, entry.bias) == (
        1,
        ("camera",),
        NO_TARGET,
        0.0,
    )


def test_attribute_missing_from_the_registry_has_no_holder():
    result = PARSER.parse(
        workflow(WorkflowType.TRAFFIC_MONITOR), make_summary(attributes={"tee": np.ones(6, bool)})
    )
    assert result.infeasible and result.unsatisfiable[0].required_attributes == ("camera",)


def test_registry_spelling_is_used_whatever_its_case():
    attributes = {"TEE": np.eye(6, dtype=bool)[3], "Camera": np.eye(6, dtype=bool)[5]}
    (constraint,) = PARSER.parse(
        workflow(WorkflowType.TEXT_SEARCH_PAY), make_summary(attributes=attributes)
    ).constraints
    assert constraint.required_attributes == ("TEE",) and constraint.target_node == 3


def test_agent_needing_both_attributes_targets_a_node_holding_both():
    request = custom_request(("a", "plain", ()), ("kiosk", "Takes the payment and watches the camera", ()))
    both = {"tee": np.eye(6, dtype=bool)[1] | np.eye(6, dtype=bool)[3], "camera": np.eye(6, dtype=bool)[3]}
    (constraint,) = PARSER.parse(request, make_summary(attributes=both)).constraints
    assert constraint == AgentConstraint(1, ("camera", "tee"), 3, 0.4, constraint.reason)
    apart = {"tee": np.eye(6, dtype=bool)[1], "camera": np.eye(6, dtype=bool)[3]}
    assert PARSER.parse(request, make_summary(attributes=apart)).infeasible


def test_bias_is_configurable_and_checked(summary):
    (constraint,) = (
        RuleBasedParser(bias=0.7).parse(workflow(WorkflowType.TEXT_SEARCH_PAY), summary).constraints
    )
    assert constraint.bias == 0.7
    with pytest.raises(ValueError, match="bias"):
        RuleBasedParser(bias=1.5)


def test_data_source_node_outside_the_substrate_is_an_error(summary):
    with pytest.raises(ValueError, match="data_source_node"):
        PARSER.parse(workflow(WorkflowType.TEXT_SEARCH_PAY, data_source_node=6), summary)


def test_result_round_trips_through_the_strict_validator(summary):
    request = workflow(WorkflowType.TRAFFIC_MONITOR, data_source_node=5)
    result = PARSER.parse(request, summary)
    assert parse_constraint_json(result.to_json(), request, summary) == result


def test_custom_vocabulary_and_pickling(summary):
    parser = pickle.loads(pickle.dumps(RuleBasedParser(vocabulary={"tee": ("hotel offers",)})))
    (constraint,) = parser.parse(workflow(WorkflowType.TEXT_SEARCH_PAY), summary).constraints
    assert constraint.agent_id == 2 and constraint.reason == "tee: hotel offers"  # hotel_search, not payment
