"""Affinity constraints of an agentic workflow request, their JSON schema and a strict validator.

Both semantic parsers (the rule-based one and the optional LLM backend) produce a
:class:`ConstraintSet`. The LLM answers in JSON that must match :data:`CONSTRAINT_SCHEMA`
(``additionalProperties: false`` everywhere); :func:`parse_constraint_json` checks the JSON
against the schema and then against the request and the substrate, and names the offending
field (``$.constraints[1].target_node``) when something is wrong.

The JSON form (``schema_version`` ``"1.0"``)::

    {"schema_version": "1.0", "request_id": "r-17",
     "constraints": [{"agent_id": 4, "required_attributes": ["tee"], "target_node": 7,
                      "bias": 0.4, "reason": "payment handles card data"}]}
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from edgeplace.workloads.agentic_workflows import SubstrateSummary, WorkflowRequest

SCHEMA_VERSION = "1.0"
#: ``target_node`` of an :attr:`ConstraintSet.unsatisfiable` entry: no substrate node holds the attributes.
NO_TARGET = -1

#: JSON Schema (draft 2020-12) of a parser answer. :func:`parse_constraint_json` enforces exactly this
#: (plus the semantic checks a schema cannot express) without a jsonschema dependency.
CONSTRAINT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ConstraintSet",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema_version", "request_id", "constraints"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "request_id": {"type": "string"},
        "constraints": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["agent_id", "required_attributes", "target_node", "bias", "reason"],
                "properties": {
                    "agent_id": {"type": "integer", "minimum": 0},
                    "required_attributes": {
                        "type": "array",
                        "items": {"type": "string"},
                        "minItems": 1,
                        "uniqueItems": True,
                    },
                    "target_node": {"type": "integer", "minimum": 0},
                    "bias": {"type": "number", "minimum": 0, "maximum": 1},
                    "reason": {"type": "string"},
                },
            },
        },
    },
}

_TOP_KEYS = ("schema_version", "request_id", "constraints")
_ITEM_KEYS = ("agent_id", "required_attributes", "target_node", "bias", "reason")


class ConstraintError(ValueError):
    """A parser answer that is not valid JSON, breaks the schema or contradicts the request/substrate.

    Args:
        path: JSON path of the offending value (``$``, ``$.constraints[2].bias``).
        message: what is wrong; ``str(error)`` is ``"{path}: {message}"``.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message

    def __reduce__(self) -> tuple:
        """Pickle with the path kept (Ray ships errors between processes)."""
        return type(self), (self.path, self.message)


@dataclass(frozen=True)
class AgentConstraint:
    """One agent that must be bound to a node holding some attributes.

    Attributes:
        agent_id: ``WorkflowAgent.id`` of the constrained agent.
        required_attributes: sorted, unique attribute names (keys of ``SubstrateSummary.attributes``).
        target_node: the node the agent's anchor is pinned to, or :data:`NO_TARGET` in
            :attr:`ConstraintSet.unsatisfiable`.
        bias: virtual resource bias added to the target's features, in [0, 1].
        reason: a short human-readable justification.
    """

    agent_id: int
    required_attributes: tuple[str, ...]
    target_node: int
    bias: float
    reason: str

    def to_json_obj(self) -> dict[str, Any]:
        """The schema's item object."""
        return {
            "agent_id": self.agent_id,
            "required_attributes": list(self.required_attributes),
            "target_node": self.target_node,
            "bias": self.bias,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ConstraintSet:
    """The constraints of one request.

    Infeasibility: an agent whose attributes no substrate node holds is not in ``constraints`` but in
    ``unsatisfiable`` (with ``target_node`` = :data:`NO_TARGET` and bias 0). A set with any such agent
    is :attr:`infeasible`, and the request must be rejected. Only the rule-based parser produces
    ``unsatisfiable`` entries; the JSON form cannot express them.

    Attributes:
        request_id: ``WorkflowRequest.request_id``.
        constraints: satisfiable constraints, sorted by ``agent_id``, at most one per agent.
        unsatisfiable: constraints without a holder, sorted by ``agent_id``.
    """

    request_id: str
    constraints: tuple[AgentConstraint, ...] = ()
    unsatisfiable: tuple[AgentConstraint, ...] = ()

    @property
    def infeasible(self) -> bool:
        """True when some agent's required attributes are held by no node (reject the request)."""
        return bool(self.unsatisfiable)

    def to_json_obj(self) -> dict[str, Any]:
        """The schema's object (``unsatisfiable`` entries are not part of it)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "request_id": self.request_id,
            "constraints": [c.to_json_obj() for c in self.constraints],
        }

    def to_json(self) -> str:
        """:meth:`to_json_obj` as compact JSON text."""
        return json.dumps(self.to_json_obj(), separators=(",", ":"))


class SemanticParser(Protocol):
    """What every semantic parser offers (rule-based, LLM)."""

    def parse(self, request: WorkflowRequest, summary: SubstrateSummary) -> ConstraintSet:
        """The constraints of ``request`` on the substrate that ``summary`` describes."""
        ...


def attribute_holders(summary: SubstrateSummary, attributes: Iterable[str]) -> np.ndarray:
    """Nodes holding every attribute. Shapes: -> (N,) bool; all True for no attributes.

    Raises:
        KeyError: an attribute is not in ``summary.attributes``.
    """
    holders = np.ones(np.asarray(summary.degree).shape[0], dtype=bool)
    for name in attributes:
        holders &= np.asarray(summary.attributes[name], dtype=bool)
    return holders


def parse_constraint_json(
    text_or_obj: str | bytes | Mapping[str, Any], request: WorkflowRequest, summary: SubstrateSummary
) -> ConstraintSet:
    """Parse and validate a parser answer against the schema, the request and the substrate.

    Checks, in order: JSON syntax (no NaN/Infinity); the schema (types, required keys, no extra keys,
    ``schema_version`` == "1.0"); ``request_id`` equals the request's; each ``agent_id`` is an agent of
    the request and appears once; each attribute is in the registry (``summary.attributes``);
    ``target_node`` is a node that holds all of them; ``bias`` in [0, 1]. An empty list is valid.

    Returns:
        A :class:`ConstraintSet` with constraints sorted by agent id and attributes sorted.

    Raises:
        ConstraintError: naming the JSON path of the first problem found.
    """
    obj = _load(text_or_obj)
    _check_object(obj, "$", _TOP_KEYS)
    if obj["schema_version"] != SCHEMA_VERSION:
        raise ConstraintError(
            "$.schema_version", f"must be {SCHEMA_VERSION!r}, got {obj['schema_version']!r}"
        )
    request_id = _string(obj["request_id"], "$.request_id")
    if request_id != request.request_id:
        raise ConstraintError("$.request_id", f"{request_id!r} is not the request's {request.request_id!r}")
    items = obj["constraints"]
    if not isinstance(items, list):
        raise ConstraintError("$.constraints", f"must be an array, got {_json_type(items)}")
    agent_ids = {int(agent.id) for agent in request.agents}
    num_nodes = int(np.asarray(summary.degree).shape[0])
    seen: set[int] = set()
    constraints = []
    for index, item in enumerate(items):
        path = f"$.constraints[{index}]"
        constraint = _constraint(item, path, summary, num_nodes)
        if constraint.agent_id not in agent_ids:
            raise ConstraintError(
                f"{path}.agent_id", f"no agent {constraint.agent_id} in the request (ids {sorted(agent_ids)})"
            )
        if constraint.agent_id in seen:
            raise ConstraintError(f"{path}.agent_id", f"agent {constraint.agent_id} is constrained twice")
        seen.add(constraint.agent_id)
        constraints.append(constraint)
    constraints.sort(key=lambda c: c.agent_id)
    return ConstraintSet(request_id=request_id, constraints=tuple(constraints))


def _load(text_or_obj: str | bytes | Mapping[str, Any]) -> Any:
    if isinstance(text_or_obj, Mapping):
        return text_or_obj
    if not isinstance(text_or_obj, str | bytes | bytearray):
        raise ConstraintError("$", f"expected JSON text or an object, got {type(text_or_obj).__name__}")
    try:
        return json.loads(text_or_obj, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise ConstraintError(
            "$", f"bad JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except UnicodeDecodeError as error:
        raise ConstraintError("$", f"bad JSON: not UTF-8 text ({error.reason})") from None


def _reject_constant(name: str) -> None:
    raise ConstraintError("$", f"bad JSON: {name} is not a JSON number")


def _constraint(item: Any, path: str, summary: SubstrateSummary, num_nodes: int) -> AgentConstraint:
    _check_object(item, path, _ITEM_KEYS)
    agent_id = _integer(item["agent_id"], f"{path}.agent_id")
    attributes = _attributes(item["required_attributes"], f"{path}.required_attributes", summary)
    target = _integer(item["target_node"], f"{path}.target_node")
    if target >= num_nodes:
        raise ConstraintError(f"{path}.target_node", f"node {target} is out of range (N = {num_nodes})")
    missing = [name for name in attributes if not bool(np.asarray(summary.attributes[name])[target])]
    if missing:
        raise ConstraintError(f"{path}.target_node", f"node {target} does not hold {missing}")
    bias = item["bias"]
    if isinstance(bias, bool) or not isinstance(bias, int | float):
        raise ConstraintError(f"{path}.bias", f"must be a number, got {_json_type(bias)}")
    if not (math.isfinite(bias) and 0.0 <= bias <= 1.0):
        raise ConstraintError(f"{path}.bias", f"must be in [0, 1], got {bias!r}")
    reason = _string(item["reason"], f"{path}.reason")
    return AgentConstraint(agent_id, attributes, target, float(bias), reason)


def _attributes(value: Any, path: str, summary: SubstrateSummary) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConstraintError(path, f"must be an array, got {_json_type(value)}")
    if not value:
        raise ConstraintError(path, "must name at least one attribute")
    names = [_string(name, f"{path}[{i}]") for i, name in enumerate(value)]
    for i, name in enumerate(names):
        if name not in summary.attributes:
            raise ConstraintError(
                f"{path}[{i}]", f"{name!r} is not in the registry {sorted(summary.attributes)}"
            )
        if name in names[:i]:
            raise ConstraintError(f"{path}[{i}]", f"{name!r} is listed twice")
    return tuple(sorted(names))


def _check_object(value: Any, path: str, keys: tuple[str, ...]) -> None:
    if not isinstance(value, Mapping):
        raise ConstraintError(path, f"must be an object, got {_json_type(value)}")
    extra = sorted(str(key) for key in value if key not in keys)
    if extra:
        raise ConstraintError(f"{path}.{extra[0]}", f"unknown property (allowed: {list(keys)})")
    for key in keys:
        if key not in value:
            raise ConstraintError(f"{path}.{key}", "required property is missing")


def _integer(value: Any, path: str) -> int:
    # JSON Schema counts 3.0 as an integer; accept it, as a schema validator would.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConstraintError(path, f"must be an integer, got {_json_type(value)}")
    if value < 0:
        raise ConstraintError(path, f"must be >= 0, got {value}")
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ConstraintError(path, f"must be a string, got {_json_type(value)}")
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__
