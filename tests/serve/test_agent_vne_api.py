"""The agent-vne placement API over real HTTP, deployed as its own application on the test session's
Serve instance: served embeddings equal the env-side greedy evaluation, the batch modes, the policy
listing and OpenAPI, and bad input (every case a 4xx naming the field; the replica keeps serving)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from edgeplace.algos.agentvne.policy import AgentVNEPolicy
from edgeplace.algos.checkpoints import read_metadata
from edgeplace.envs.agent_vne import static_network
from edgeplace.serve.agent_vne_inputs import workflow_body
from edgeplace.serve.agent_vne_schemas import AgentVNENetworkState, AgentVNEPlaceRequest
from edgeplace.serve.routes import Route
from edgeplace.workloads.agentic_workflows import WORKFLOW_TEMPLATES, WorkflowType, build_request
from tests.algos.test_agentvne_stages import tiny_agentvne_config
from tests.serve.agent_vne_bodies import (
    PLACE,
    PLACE_BATCH,
    POLICY,
    SCENARIO_ID,
    greedy_trace,
    place_body,
    trace_env_config,
    vne_checkpoint,
)
from tests.serve.conftest import START_TIMEOUT_S, wait_healthy

APP_NAME, ROUTE_PREFIX = "agent-vne-test", "/agent-vne-test"
MAX_BATCH_REQUESTS = 12
MAX_BODY_BYTES = 64 * 1024
STATIC = static_network(tiny_agentvne_config(20).env_config)
NUM_NODES, NUM_LINKS = STATIC.num_nodes, STATIC.num_edges


@dataclass(frozen=True)
class VNEApp:
    client: httpx.Client
    checkpoint: Path


@pytest.fixture(scope="module")
def vne_app(served, tmp_path_factory) -> Iterator[VNEApp]:
    """This scenario's application beside the package's one (``served`` started Serve)."""
    from ray import serve

    from edgeplace.serve.app import build_app

    checkpoint = vne_checkpoint(tmp_path_factory)
    args = {
        "checkpoints": [f"{POLICY}={checkpoint}"],
        "max_batch_requests": MAX_BATCH_REQUESTS,
        "max_body_bytes": MAX_BODY_BYTES,
        "replica_cpus": 0.1,
    }
    serve.run(build_app(args), name=APP_NAME, route_prefix=ROUTE_PREFIX, blocking=False)
    try:
        with httpx.Client(base_url=served.url + ROUTE_PREFIX, timeout=30.0) as client:
            wait_healthy(client, START_TIMEOUT_S)
            yield VNEApp(client, checkpoint)
    finally:
        serve.delete(APP_NAME)


def idle_state(**changes) -> dict:
    """Every capacity and link bandwidth free, with ``changes``."""
    return {
        "node_free": STATIC.capacity.tolist(),
        "link_free_mbps": STATIC.bandwidth_mbps.tolist(),
        "link_flows": [0] * NUM_LINKS,
        "link_workflows": [0] * NUM_LINKS,
        "live_workflows": 0,
    } | changes


def workflow(workflow_type: WorkflowType = WorkflowType.TEXT_SEARCH_PAY, request_id: str = "w") -> dict:
    """A workflow of ``workflow_type`` (the pay type has a TEE agent, 4: payment) as a body."""
    request = build_request(WORKFLOW_TEMPLATES[workflow_type], request_id)
    return workflow_body(request).model_dump(mode="json")


def body(state: dict | None = None, request: dict | None = None, **extra) -> dict:
    return {"state": state or idle_state(), "request": request or workflow(), **extra}


def test_served_embeddings_over_http_equal_env_side_greedy_evaluation(vne_app):
    env_config = trace_env_config(vne_app.checkpoint)
    trace = greedy_trace(AgentVNEPolicy.from_checkpoint(vne_app.checkpoint, env_config), env_config, seed=2)
    assert {decision.accepted for decision in trace.decisions} == {True, False}
    for decision in trace.decisions:
        response = vne_app.client.post(PLACE, json=place_body(decision))
        if decision.accepted:
            assert response.status_code == 200, response.text
            assert [agent["host"] for agent in response.json()["agents"]] == decision.hosts
        else:
            assert response.status_code == 409, response.text
            assert response.json()["field"] == "request"


def test_independent_batch_repeats_one_embedding_and_sequential_fills_the_substrate(vne_app):
    requests = [workflow(WorkflowType.IMAGE_PROC, f"img-{i}") for i in range(MAX_BATCH_REQUESTS)]
    single = vne_app.client.post(PLACE, json=body(request=requests[0])).json()
    outcomes = {}
    for mode in ("independent", "sequential"):
        response = vne_app.client.post(
            PLACE_BATCH, json={"state": idle_state(), "requests": requests, "mode": mode}
        )
        assert response.status_code == 200, response.text
        batch = response.json()
        assert batch["policy"] == POLICY and batch["mode"] == mode
        assert [r["request_id"] for r in batch["results"]] == [r["request_id"] for r in requests]
        outcomes[mode] = batch["results"]
    independent, sequential = outcomes["independent"], outcomes["sequential"]
    assert all(r["accepted"] and r["placement"]["agents"] == single["agents"] for r in independent)
    assert sequential[0]["placement"]["agents"] == single["agents"]
    hosts = [[a["host"] for a in r["placement"]["agents"]] for r in sequential if r["accepted"]]
    assert len({tuple(h) for h in hosts}) > 1, "later workflows see the resources the first ones took"
    assert not sequential[-1]["accepted"] and "no feasible embedding" in sequential[-1]["reason"]
    assert sequential[-1]["placement"] is None


def test_policies_list_the_agentvne_policy_and_openapi_is_narrowed(vne_app):
    (info,) = vne_app.client.get(Route.POLICIES).json()
    assert info["name"] == POLICY and info["scenario"] == SCENARIO_ID and info["default"]
    assert info["num_nodes"] == info["num_actions"] == NUM_NODES
    assert info["training"] == read_metadata(vne_app.checkpoint)
    schemas = vne_app.client.get("/openapi.json").json()["components"]["schemas"]
    state = schemas[AgentVNENetworkState.__name__]["properties"]
    assert state["node_free"]["minItems"] == state["node_free"]["maxItems"] == NUM_NODES
    assert state["link_flows"]["minItems"] == state["link_flows"]["maxItems"] == NUM_LINKS
    (example,) = schemas[AgentVNEPlaceRequest.__name__]["examples"]
    assert example["state"] == idle_state()
    response = vne_app.client.post(PLACE, json=example)
    assert response.status_code == 200, response.text
    assert response.json()["anchors"][0]["attributes"] == ["tee"]


@dataclass(frozen=True)
class BadCase:
    """A request and the status and field its error must name."""

    name: str
    content: bytes
    status: int
    field: str
    path: str = PLACE


def as_bytes(document: object) -> bytes:
    return json.dumps(document).encode()  # NaN and Infinity are written as their JavaScript literals


def with_state(**changes) -> bytes:
    return as_bytes(body(state=idle_state(**changes)))


def with_request(edit) -> bytes:
    request = workflow()
    edit(request)
    return as_bytes(body(request=request))


def over(array: list, index: int, value) -> list:
    return array[:index] + [value] + array[index + 1 :]


CAPACITY, BANDWIDTH = STATIC.capacity.tolist(), STATIC.bandwidth_mbps.tolist()
ZEROS = [0] * NUM_LINKS
CASES = [
    BadCase("malformed JSON", b'{"state": {"node_free": [[1, 2', 422, "body"),
    BadCase(
        "missing field", with_request(lambda r: r["agents"][0].pop("demand")), 422, "request.agents[0].demand"
    ),
    BadCase(
        "extra field", with_request(lambda r: r["agents"][1].update(gpu=1)), 422, "request.agents[1].gpu"
    ),
    BadCase("extra top-level field", as_bytes(body(debug=True)), 422, "debug"),
    BadCase("node_free too short", with_state(node_free=CAPACITY[1:]), 422, "state.node_free"),
    BadCase(
        "node_free row of 2", with_state(node_free=over(CAPACITY, 3, [1.0, 1.0])), 422, "state.node_free[3]"
    ),
    BadCase("link_free too long", with_state(link_free_mbps=BANDWIDTH + [1.0]), 422, "state.link_free_mbps"),
    BadCase(
        "NaN", with_state(link_free_mbps=over(BANDWIDTH, 0, float("nan"))), 422, "state.link_free_mbps[0]"
    ),
    BadCase(
        "infinite demand",
        with_request(lambda r: r["agents"][1].update(demand=[float("inf"), 0.1, 0.1])),
        422,
        "request.agents[1].demand[0]",
    ),
    BadCase(
        "negative demand",
        with_request(lambda r: r["agents"][0].update(demand=[0.1, 0.1, -0.1])),
        422,
        "request.agents[0].demand[2]",
    ),
    BadCase("number as string", with_state(live_workflows="3"), 422, "state.live_workflows"),
    BadCase(
        "free above capacity",
        with_state(node_free=over(CAPACITY, 2, [CAPACITY[2][0], CAPACITY[2][1] + 0.5, CAPACITY[2][2]])),
        422,
        "state.node_free[2][1]",
    ),
    BadCase(
        "free above bandwidth",
        with_state(link_free_mbps=over(BANDWIDTH, 4, BANDWIDTH[4] + 1.0)),
        422,
        "state.link_free_mbps[4]",
    ),
    BadCase(
        "workflows above flows",
        with_state(link_workflows=over(ZEROS, 1, 1), live_workflows=1),
        422,
        "state.link_workflows[1]",
    ),
    BadCase(
        "workflows above live",
        with_state(link_flows=over(ZEROS, 0, 3), link_workflows=over(ZEROS, 0, 2), live_workflows=1),
        422,
        "state.link_workflows[0]",
    ),
    BadCase(
        "link to a missing agent",
        with_request(lambda r: r["links"][1].update(dst=6)),
        422,
        "request.links[1].dst",
    ),
    BadCase("self loop", with_request(lambda r: r["links"][0].update(dst=0)), 422, "request.links[0]"),
    BadCase(
        "duplicate link", with_request(lambda r: r["links"].append(r["links"][2])), 422, "request.links[5]"
    ),
    BadCase(
        "zero bandwidth",
        with_request(lambda r: r["links"][0].update(bandwidth_mbps=0.0)),
        422,
        "request.links[0].bandwidth_mbps",
    ),
    BadCase(
        "data source out of range",
        with_request(lambda r: r.update(data_source_node=NUM_NODES)),
        422,
        "request.data_source_node",
    ),
    BadCase("no agents", with_request(lambda r: r.update(agents=[], links=[])), 422, "request.agents"),
    BadCase(
        "agents plus anchors over the policy's limit",
        with_request(lambda r: r["agents"].extend(r["agents"][:2])),
        422,
        "request.agents",
    ),
    BadCase(
        "infeasible on the given state",
        with_request(lambda r: r["agents"][3].update(demand=[1e3, 1e3, 1e3])),
        409,
        "request",
    ),
    BadCase("unknown policy", as_bytes(body(policy="nope")), 404, "policy"),
    BadCase("oversized body", b" " * (MAX_BODY_BYTES + 1), 413, "body"),
    BadCase(
        "too many batch requests",
        as_bytes({"state": idle_state(), "requests": [workflow()] * (MAX_BATCH_REQUESTS + 1)}),
        422,
        "requests",
        path=PLACE_BATCH,
    ),
    BadCase(
        "unknown batch mode",
        as_bytes({"state": idle_state(), "requests": [workflow()], "mode": "parallel"}),
        422,
        "mode",
        path=PLACE_BATCH,
    ),
    BadCase(
        "link_flows too short in a batch",
        as_bytes({"state": idle_state(link_flows=ZEROS[1:]), "requests": [workflow()]}),
        422,
        "state.link_flows",
        path=PLACE_BATCH,
    ),
    BadCase(
        "bad link in a batch",
        as_bytes(
            {
                "state": idle_state(),
                "requests": [
                    workflow(),
                    workflow() | {"links": [{"src": 9, "dst": 0, "bandwidth_mbps": 1.0, "data_mb": 0.1}]},
                ],
            }
        ),
        422,
        "requests[1].links[0].src",
        path=PLACE_BATCH,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_a_4xx_naming_the_field_and_the_replica_keeps_serving(vne_app, case):
    headers = {"content-type": "application/json"}
    response = vne_app.client.post(case.path, content=case.content, headers=headers)
    assert response.status_code == case.status, response.text
    error = response.json()
    assert error["field"] == case.field, error
    assert case.field in error["detail"], error
    assert vne_app.client.get(Route.HEALTH).status_code == 200
    assert vne_app.client.post(PLACE, json=body()).status_code == 200
