"""Bad input over real HTTP: every case gets a 4xx whose JSON body names the field, and the replica
keeps serving (``/healthz`` and a valid placement still answer after each)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from edgeplace.serve.routes import Route
from tests.serve.bodies import (
    MAX_BATCH_REQUESTS,
    MAX_BODY_BYTES,
    NO_VIDEO_POLICY,
    NUM_NODES,
    PLACE,
    PLACE_BATCH,
    VIDEO,
    idle_state,
    place_body,
    sample_request,
)


@dataclass(frozen=True)
class BadCase:
    """A request and the status and field its error must name."""

    name: str
    content: bytes | Iterator[bytes]
    status: int
    field: str
    path: str = PLACE
    method: str = "POST"


def as_bytes(body: object) -> bytes:
    return json.dumps(body).encode()


def with_state(**changes) -> bytes:
    return as_bytes(place_body(state=idle_state() | changes))


def with_request(**changes) -> bytes:
    return as_bytes(place_body(request=sample_request(**changes)))


def without(key: str) -> bytes:
    request = sample_request()
    del request[key]
    return as_bytes(place_body(request=request))


def chunks(total: int, size: int = 8192) -> Iterator[bytes]:
    """A body sent chunked (no Content-Length), ``total`` bytes long."""
    for _ in range(total // size):
        yield b" " * size


VALID = as_bytes(place_body())
BATCH_STATE = idle_state()
CASES = [
    BadCase("malformed JSON", b'{"state": {"load": [1, 2', 422, "body"),
    BadCase("not an object", b"[1, 2, 3]", 422, "body"),
    BadCase("empty body", b"", 422, "body"),
    BadCase("not UTF-8", b'{"state": "\xff\xfe"}', 400, "body"),
    BadCase("missing field", without("omega"), 422, "request.omega"),
    BadCase("extra field", with_request(priority=1), 422, "request.priority"),
    BadCase("extra top-level field", as_bytes(place_body(debug=True)), 422, "debug"),
    BadCase("load too short", with_state(load=[0.0] * (NUM_NODES - 1)), 422, "state.load"),
    BadCase("telemetry too long", with_state(telemetry=[0.0] * (NUM_NODES + 1)), 422, "state.telemetry"),
    BadCase("NaN", VALID.replace(b'"size_scale": 0.5', b'"size_scale": NaN'), 422, "request.size_scale"),
    BadCase("infinity", with_state(load=[0.0, 0.0, float("inf")] + [0.0] * 22), 422, "state.load[2]"),
    BadCase("Infinity literal", VALID.replace(b'"omega": 0.5', b'"omega": -Infinity'), 422, "request.omega"),
    BadCase("number as string", with_request(omega="0.5"), 422, "request.omega"),
    BadCase("bool as node index", with_request(access_node=True), 422, "request.access_node"),
    BadCase("negative load", with_state(load=[-1.0] + [0.0] * 24), 422, "state.load[0]"),
    BadCase("omega above 1", with_request(omega=1.5), 422, "request.omega"),
    BadCase("node index out of range", with_request(access_node=NUM_NODES), 422, "request.access_node"),
    BadCase("model type out of range", with_request(route=[1, 4, 1, 1, 1]), 422, "request.route[1]"),
    BadCase("route too short", with_request(route=[1, 1, 1, 1]), 422, "request.route"),
    BadCase("request index beyond window", with_state(request_index=10_000), 422, "state.request_index"),
    BadCase(
        "infeasible route",
        as_bytes(place_body(request=sample_request(route=[1, 2, 1, VIDEO, 1]), policy=NO_VIDEO_POLICY)),
        409,
        "request.route[3]",
    ),
    BadCase("unknown policy", as_bytes(place_body(policy="nope")), 404, "policy"),
    BadCase("unknown scenario", VALID, 404, "scenario", path=Route.PLACE.of("vne")),
    BadCase("unknown path", VALID, 404, "path", path="/v2/anything"),
    BadCase("wrong method", b"", 405, "method", method="GET"),
    BadCase("oversized body", b" " * (MAX_BODY_BYTES + 1), 413, "body"),
    BadCase("oversized chunked body", chunks(2 * MAX_BODY_BYTES), 413, "body"),
    BadCase(
        "too many batch requests",
        as_bytes({"state": BATCH_STATE, "requests": [sample_request()] * (MAX_BATCH_REQUESTS + 1)}),
        422,
        "requests",
        path=PLACE_BATCH,
    ),
    BadCase(
        "empty batch", as_bytes({"state": BATCH_STATE, "requests": []}), 422, "requests", path=PLACE_BATCH
    ),
    BadCase(
        "infeasible request in a batch",
        as_bytes(
            {
                "state": BATCH_STATE,
                "requests": [sample_request(route=[1, 1, 1, 1, 1])] * 2 + [sample_request()],
                "policy": NO_VIDEO_POLICY,
            }
        ),
        409,
        "requests[2].route[3]",
        path=PLACE_BATCH,
    ),
    BadCase(
        "node out of range in a batch",
        as_bytes({"state": BATCH_STATE, "requests": [sample_request(), sample_request(access_node=99)]}),
        422,
        "requests[1].access_node",
        path=PLACE_BATCH,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_a_4xx_naming_the_field_and_the_replica_keeps_serving(served, case):
    headers = {"content-type": "application/json"}
    response = served.client.request(case.method, case.path, content=case.content, headers=headers)
    assert response.status_code == case.status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["field"] == case.field, body
    assert case.field in body["detail"] or case.field in {"body", "path", "method"}, body
    assert served.client.get(Route.HEALTH).status_code == 200
    assert served.client.post(PLACE, content=VALID, headers=headers).status_code == 200
