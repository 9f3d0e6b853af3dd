"""The dnn-inference placement API over real HTTP, as its own application on the test session's Serve:
bad input gets a 4xx naming the field (and the replica keeps serving), served actions equal the
env-side greedy evaluation, and the policy and OpenAPI metadata describe the served policies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from edgeplace.algos.checkpoints import read_metadata
from edgeplace.algos.hisper.policy import HISPERPolicy
from edgeplace.envs.dnn_inference import (
    DnnInferenceConfig,
    DnnInferenceParams,
    SlotRequests,
    admit_slot,
    load_server_network,
)
from edgeplace.serve.dnn_inference_placer import DnnInferencePlacer
from edgeplace.serve.dnn_inference_schemas import DnnPlaceRequest, DnnRequest, DnnSlotState
from edgeplace.serve.routes import Route
from edgeplace.workloads.dnn_inference import Service
from tests.serve.conftest import START_TIMEOUT_S, wait_healthy
from tests.serve.test_dnn_inference_placer import (
    NUM_SERVERS,
    actions_of,
    greedy_episode,
    hisper_checkpoint,  # noqa: F401 (a fixture)
)
from tests.serve.test_schemathesis import EXAMPLES_PER_OPERATION, run_schemathesis

APP_NAME, ROUTE_PREFIX = "dnn-inference-test", "/dnn-inference-test"
SCENARIO = DnnInferencePlacer.scenario
PLACE, PLACE_BATCH = Route.PLACE.of(SCENARIO), Route.PLACE_BATCH.of(SCENARIO)
MAIN_POLICY, ZERO_SHOT_POLICY = "hisper", "hisper-zero-shot"
ZERO_SHOT_TOPOLOGY = "geo-radius:nodes=16,radius_km=0.5,side_km=1.5,seed=1"
"""Another 16-server network: with equal server counts the narrowed OpenAPI arrays have one exact
length, which the fuzzing below relies on (fewer servers are covered in process)."""
MAX_BATCH_REQUESTS = 8
MAX_BODY_BYTES = 64 * 1024
AGENTS = ["od_0", "od_1", "mot_0", "mot_1"]


@pytest.fixture(scope="module")
def client(served, hisper_checkpoint) -> Iterator[httpx.Client]:  # noqa: F811 (the imported fixture)
    """The dnn-inference application next to the package's genai one: the tiny HISPER checkpoint on
    its training topology and zero-shot on another one."""
    from ray import serve

    from edgeplace.serve.app import build_app

    args = {
        "checkpoints": [
            f"{MAIN_POLICY}={hisper_checkpoint}",
            {"path": str(hisper_checkpoint), "name": ZERO_SHOT_POLICY, "topology": ZERO_SHOT_TOPOLOGY},
        ],
        "max_batch_requests": MAX_BATCH_REQUESTS,
        "max_body_bytes": MAX_BODY_BYTES,
        "replica_cpus": 0.1,
    }
    serve.run(build_app(args), name=APP_NAME, route_prefix=ROUTE_PREFIX, blocking=False)
    try:
        with httpx.Client(base_url=served.url + ROUTE_PREFIX, timeout=30.0) as http:
            wait_healthy(http, START_TIMEOUT_S)
            yield http
    finally:
        serve.delete(APP_NAME)


def slot_state(num_servers: int = NUM_SERVERS) -> dict:
    return {"background_tflop": [0.2] * num_servers, "background_memory_mb": [500.0] * num_servers}


def sample_request(**changes) -> dict:
    """An OD request that several actions serve on :func:`slot_state`, with ``changes`` applied."""
    return {"agent": "od_0", "local_server": 3, "deadline_s": 2.0, "data_mb": 5.0} | changes


def place_body(state: dict | None = None, request: dict | None = None, **extra) -> dict:
    return {"state": state or slot_state(), "request": request or sample_request(), **extra}


def batch_body(requests: list[dict], **extra) -> dict:
    return {"state": slot_state(), "requests": requests, **extra}


def as_bytes(body: object) -> bytes:
    return json.dumps(body).encode()


def with_state(**changes) -> bytes:
    return as_bytes(place_body(state=slot_state() | changes))


def with_request(**changes) -> bytes:
    return as_bytes(place_body(request=sample_request(**changes)))


def without(key: str) -> bytes:
    request = sample_request()
    del request[key]
    return as_bytes(place_body(request=request))


@dataclass(frozen=True)
class BadCase:
    """A body and the status and field its error must name."""

    name: str
    content: bytes
    status: int
    field: str
    path: str = PLACE


VALID = as_bytes(place_body())
HOPELESS_DEADLINE_S = 1e-4
FULL_MEMORY_MB = 4096.0
"""Background memory that leaves no server (1, 2 or 4 GB) room for anything."""
CASES = [
    BadCase("malformed JSON", b'{"state": {"background_tflop": [1, 2', 422, "body"),
    BadCase("not an object", b"[1, 2, 3]", 422, "body"),
    BadCase("missing field", without("data_mb"), 422, "request.data_mb"),
    BadCase("extra field", with_request(priority=1), 422, "request.priority"),
    BadCase("extra top-level field", as_bytes(place_body(debug=True)), 422, "debug"),
    BadCase("work too short", with_state(background_tflop=[0.2] * 15), 422, "state.background_tflop"),
    BadCase(
        "memory too long", with_state(background_memory_mb=[0.0] * 17), 422, "state.background_memory_mb"
    ),
    BadCase("NaN", VALID.replace(b'"deadline_s": 2.0', b'"deadline_s": NaN'), 422, "request.deadline_s"),
    BadCase(
        "infinity",
        with_state(background_tflop=[0.2, 0.2, float("inf")] + [0.2] * 13),
        422,
        "state.background_tflop[2]",
    ),
    BadCase("-Infinity", VALID.replace(b'"data_mb": 5.0', b'"data_mb": -Infinity'), 422, "request.data_mb"),
    BadCase("number as string", with_request(deadline_s="2.0"), 422, "request.deadline_s"),
    BadCase("bool as server index", with_request(local_server=True), 422, "request.local_server"),
    BadCase(
        "negative memory",
        with_state(background_memory_mb=[-1.0] + [0.0] * 15),
        422,
        "state.background_memory_mb[0]",
    ),
    BadCase("zero deadline", with_request(deadline_s=0.0), 422, "request.deadline_s"),
    BadCase("server index out of range", with_request(local_server=NUM_SERVERS), 422, "request.local_server"),
    BadCase("malformed agent id", with_request(agent="od0"), 422, "request.agent"),
    BadCase("agent the policy lacks", with_request(agent="mot_7"), 422, "request.agent"),
    BadCase("hopeless deadline", with_request(deadline_s=HOPELESS_DEADLINE_S), 409, "request.deadline_s"),
    BadCase(
        "no memory left",
        with_state(background_memory_mb=[FULL_MEMORY_MB] * 16),
        409,
        "state.background_memory_mb",
    ),
    BadCase("unknown policy", as_bytes(place_body(policy="nope")), 404, "policy"),
    BadCase("oversized body", b" " * (MAX_BODY_BYTES + 1), 413, "body"),
    BadCase(
        "too many batch requests",
        as_bytes(batch_body([sample_request()] * (MAX_BATCH_REQUESTS + 1))),
        422,
        "requests",
        PLACE_BATCH,
    ),
    BadCase("empty batch", as_bytes(batch_body([])), 422, "requests", PLACE_BATCH),
    BadCase(
        "hopeless request in a batch",
        as_bytes(
            batch_body([sample_request(), sample_request(agent="mot_1", deadline_s=HOPELESS_DEADLINE_S)])
        ),
        409,
        "requests[1].deadline_s",
        PLACE_BATCH,
    ),
    BadCase(
        "unknown agent in a batch",
        as_bytes(batch_body([sample_request(), sample_request(), sample_request(agent="od_2")])),
        422,
        "requests[2].agent",
        PLACE_BATCH,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_a_4xx_naming_the_field_and_the_replica_keeps_serving(client, case):
    headers = {"content-type": "application/json"}
    response = client.post(case.path, content=case.content, headers=headers)
    assert response.status_code == case.status, response.text
    body = response.json()
    assert body["field"] == case.field, body
    assert case.field in body["detail"] or case.field == "body", body
    assert client.get(Route.HEALTH).status_code == 200
    assert client.post(PLACE, content=VALID, headers=headers).status_code == 200


def test_served_actions_equal_env_side_greedy_evaluation(client, hisper_checkpoint):  # noqa: F811
    slots = greedy_episode(HISPERPolicy.from_checkpoint(hisper_checkpoint), seed=11)[:2]
    for slot in slots:
        response = client.post(PLACE_BATCH, json=slot.body)
        assert response.status_code == 200, response.text
        batch = response.json()
        assert batch["policy"] == MAIN_POLICY
        np.testing.assert_array_equal(actions_of(batch["placements"]), slot.actions)
    state, requests = slots[0].body["state"], slots[0].body["requests"]
    singles = [client.post(PLACE, json=place_body(state, request)).json() for request in requests]
    np.testing.assert_array_equal(actions_of(singles), slots[0].actions)
    assert [placement["agent"] for placement in singles] == AGENTS


def test_concurrent_place_calls_each_get_their_own_placement(client):
    rng = np.random.default_rng(2)
    bodies = [
        place_body(
            {
                "background_tflop": rng.uniform(0.1, 0.3, NUM_SERVERS).tolist(),
                "background_memory_mb": rng.uniform(100, 900, NUM_SERVERS).tolist(),
            },
            sample_request(agent=AGENTS[i % len(AGENTS)], deadline_s=25.0, local_server=i % NUM_SERVERS),
        )
        for i in range(16)
    ]

    def post(body: dict) -> dict:
        response = client.post(PLACE, json=body)
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(post, bodies))
    singles = [post(body) for body in bodies]
    np.testing.assert_array_equal(actions_of(concurrent), actions_of(singles))
    for together, alone in zip(concurrent, singles, strict=True):
        assert (together["agent"], together["delay_s"]) == (alone["agent"], alone["delay_s"])
        assert together["probability"] == pytest.approx(alone["probability"], abs=2e-6)


def test_zero_shot_policy_places_on_its_own_topology(client):
    request = sample_request(agent="mot_0", deadline_s=25.0)
    response = client.post(PLACE, json=place_body(request=request, policy=ZERO_SHOT_POLICY))
    assert response.status_code == 200, response.text
    placement = response.json()
    assert placement["policy"] == ZERO_SHOT_POLICY and placement["service"] == "mot"
    slot = SlotRequests(
        service=np.array([Service.MOT]),
        local=np.array([request["local_server"]]),
        data_mb=np.array([request["data_mb"]]),
        deadline_s=np.array([request["deadline_s"]]),
        background_tflop=np.array(slot_state()["background_tflop"]),
        background_memory_mb=np.array(slot_state()["background_memory_mb"]),
    )
    action = actions_of([placement])
    for topology, expected in ((ZERO_SHOT_TOPOLOGY, True), (DnnInferenceConfig().topology, False)):
        outcome = admit_slot(load_server_network(topology), DnnInferenceParams(), slot, action)
        assert (placement["delay_s"] == pytest.approx(outcome.delay_s[0], abs=1e-6)) == expected


def test_policies_list_both_policies_with_their_topologies(client, hisper_checkpoint):  # noqa: F811
    policies = [p for p in client.get(Route.POLICIES).json() if p["scenario"] == SCENARIO]
    assert [p["name"] for p in policies] == [MAIN_POLICY, ZERO_SHOT_POLICY]
    assert [p["default"] for p in policies] == [True, False]
    main, zero_shot = policies
    assert main["topology"] == DnnInferenceConfig().topology and zero_shot["topology"] == ZERO_SHOT_TOPOLOGY
    assert main["num_nodes"] == zero_shot["num_nodes"] == NUM_SERVERS
    assert main["num_actions"] == 16 * 4 * NUM_SERVERS
    assert main["checkpoint"] == str(Path(hisper_checkpoint).resolve())
    assert main["training"] == read_metadata(hisper_checkpoint)


def test_openapi_is_narrowed_to_the_served_policies_and_its_example_places(client):
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    work = schemas[DnnSlotState.__name__]["properties"]["background_tflop"]
    assert work["minItems"] == work["maxItems"] == NUM_SERVERS
    request = schemas[DnnRequest.__name__]["properties"]
    assert request["local_server"]["maximum"] == NUM_SERVERS - 1
    assert request["agent"]["enum"] == AGENTS
    place = schemas[DnnPlaceRequest.__name__]
    assert place["properties"]["policy"]["anyOf"][0]["enum"] == [MAIN_POLICY, ZERO_SHOT_POLICY]
    (example,) = place["examples"]
    assert client.post(PLACE, json=example).status_code == 200


def test_fuzzing_finds_no_server_error_or_schema_violation(client, tmp_path):
    done = run_schemathesis(str(client.base_url).rstrip("/"), EXAMPLES_PER_OPERATION, tmp_path)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert generated is not None, done.stdout[-2000:]
    assert int(generated.group(1)) == int(generated.group(2)) >= 40
    assert client.post(PLACE, json=place_body()).status_code == 200
