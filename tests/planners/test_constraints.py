"""The strict JSON validator: a valid answer parses; every kind of bad answer names its field."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest

from edgeplace.planners import (
    CONSTRAINT_SCHEMA,
    AgentConstraint,
    ConstraintError,
    ConstraintSet,
    parse_constraint_json,
)
from edgeplace.workloads.agentic_workflows import WorkflowType
from tests.planners.conftest import make_summary, workflow

REQUEST = workflow(WorkflowType.TEXT_SEARCH_PAY, request_id="r-9")  # 6 agents, ids 0..5


def answer(*items: dict) -> dict:
    return {"schema_version": "1.0", "request_id": "r-9", "constraints": list(items)}


def item(**changes) -> dict:
    base = {"agent_id": 4, "required_attributes": ["tee"], "target_node": 2, "bias": 0.4, "reason": "pays"}
    return {**base, **changes}


def without(mapping: dict, key: str) -> dict:
    return {k: v for k, v in mapping.items() if k != key}


def test_valid_answer_parses_into_sorted_constraints():
    text = json.dumps(answer(item(), item(agent_id=1, required_attributes=["tee", "camera"], target_node=2)))
    both_on_2 = {"tee": np.eye(6, dtype=bool)[2], "camera": np.eye(6, dtype=bool)[2]}
    summary = make_summary(attributes=both_on_2)
    result = parse_constraint_json(text, REQUEST, summary)
    assert result == ConstraintSet(
        "r-9",
        (AgentConstraint(1, ("camera", "tee"), 2, 0.4, "pays"), AgentConstraint(4, ("tee",), 2, 0.4, "pays")),
    )


def test_empty_list_bytes_and_objects_are_accepted(summary):
    assert parse_constraint_json(json.dumps(answer()).encode(), REQUEST, summary) == ConstraintSet("r-9")
    assert (
        parse_constraint_json(answer(item(bias=1, target_node=4)), REQUEST, summary).constraints[0].bias
        == 1.0
    )


def test_to_json_round_trips(summary):
    original = ConstraintSet("r-9", (AgentConstraint(4, ("tee",), 4, 0.25, "card data"),))
    assert parse_constraint_json(original.to_json(), REQUEST, summary) == original


BAD_ANSWERS = {
    "not json": ("{'schema_version': '1.0'", "$"),
    "NaN literal": ('{"schema_version": "1.0", "request_id": "r-9", "constraints": [], "x": NaN}', "$"),
    "top level array": ("[]", "$"),
    "extra top-level key": (json.dumps({**answer(), "notes": "hi"}), "$.notes"),
    "missing constraints": (json.dumps(without(answer(), "constraints")), "$.constraints"),
    "wrong schema version": (json.dumps({**answer(), "schema_version": "2.0"}), "$.schema_version"),
    "request id of another request": (json.dumps({**answer(), "request_id": "r-8"}), "$.request_id"),
    "request id not a string": (json.dumps({**answer(), "request_id": 9}), "$.request_id"),
    "constraints not an array": (json.dumps({**answer(), "constraints": {}}), "$.constraints"),
    "item not an object": (json.dumps(answer("payment")), "$.constraints[0]"),
    "extra item key": (json.dumps(answer(item(priority=1))), "$.constraints[0].priority"),
    "missing reason": (json.dumps(answer(without(item(), "reason"))), "$.constraints[0].reason"),
    "agent id string": (json.dumps(answer(item(agent_id="4"))), "$.constraints[0].agent_id"),
    "agent id boolean": (json.dumps(answer(item(agent_id=True))), "$.constraints[0].agent_id"),
    "agent id fractional": (json.dumps(answer(item(agent_id=4.5))), "$.constraints[0].agent_id"),
    "unknown agent": (json.dumps(answer(item(agent_id=6))), "$.constraints[0].agent_id"),
    "negative agent": (json.dumps(answer(item(agent_id=-1))), "$.constraints[0].agent_id"),
    "duplicate agent": (json.dumps(answer(item(), item(target_node=4))), "$.constraints[1].agent_id"),
    "attributes not an array": (
        json.dumps(answer(item(required_attributes="tee"))),
        "$.constraints[0].required_attributes",
    ),
    "no attributes": (
        json.dumps(answer(item(required_attributes=[]))),
        "$.constraints[0].required_attributes",
    ),
    "attribute not a string": (
        json.dumps(answer(item(required_attributes=[1]))),
        "$.constraints[0].required_attributes[0]",
    ),
    "attribute not in registry": (
        json.dumps(answer(item(required_attributes=["gpu"]))),
        "$.constraints[0].required_attributes[0]",
    ),
    "attribute in wrong case": (
        json.dumps(answer(item(required_attributes=["TEE"]))),
        "$.constraints[0].required_attributes[0]",
    ),
    "duplicate attribute": (
        json.dumps(answer(item(required_attributes=["tee", "tee"]))),
        "$.constraints[0].required_attributes[1]",
    ),
    "target lacks the attribute": (json.dumps(answer(item(target_node=5))), "$.constraints[0].target_node"),
    "target outside the substrate": (json.dumps(answer(item(target_node=6))), "$.constraints[0].target_node"),
    "target null": (json.dumps(answer(item(target_node=None))), "$.constraints[0].target_node"),
    "bias above 1": (json.dumps(answer(item(bias=1.5))), "$.constraints[0].bias"),
    "bias below 0": (json.dumps(answer(item(bias=-0.1))), "$.constraints[0].bias"),
    "bias string": (json.dumps(answer(item(bias="0.4"))), "$.constraints[0].bias"),
    "reason not a string": (json.dumps(answer(item(reason=None))), "$.constraints[0].reason"),
}


@pytest.mark.parametrize("text, path", BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_bad_answers_name_the_offending_field(text, path, summary):
    with pytest.raises(ConstraintError) as caught:
        parse_constraint_json(text, REQUEST, summary)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")


def test_non_text_input_is_rejected(summary):
    with pytest.raises(ConstraintError, match=r"^\$: expected JSON text"):
        parse_constraint_json(42, REQUEST, summary)


def test_error_pickles_with_its_path():
    error = pickle.loads(pickle.dumps(ConstraintError("$.constraints[0].bias", "too big")))
    assert (error.path, error.message, str(error)) == (
        "$.constraints[0].bias",
        "too big",
        "$.constraints[0].bias: too big",
    )


# Answers whose only problem is one a JSON Schema can express (the rest are semantic checks).
SCHEMA_LEVEL = [
    key
    for key in BAD_ANSWERS
    if key
    not in {
        "not json",
        "NaN literal",
        "request id of another request",
        "unknown agent",
        "duplicate agent",
        "attribute not in registry",
        "attribute in wrong case",
        "target lacks the attribute",
        "target outside the substrate",
    }
]


@pytest.mark.parametrize("key", SCHEMA_LEVEL)
def test_published_schema_agrees_with_the_validator(key):
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(copy.deepcopy(CONSTRAINT_SCHEMA))
    assert validator.is_valid(answer(item()))
    assert not validator.is_valid(json.loads(BAD_ANSWERS[key][0]))


def test_published_schema_is_a_valid_schema():
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(CONSTRAINT_SCHEMA)
