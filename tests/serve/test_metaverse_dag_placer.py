"""The metaverse-dag placer on a tiny trained MAPPO checkpoint (restored through the scenario spec's
``load_policy``): the served action is the restored policy's greedy action on the served observation
(GRU from its initial state), a batch places as its requests one by one, and the routes, in process,
answer the OpenAPI example and refuse bad bodies with a 4xx naming the field."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from edgeplace.algos.training import train
from edgeplace.envs.metaverse_dag import SCENARIO_ID
from edgeplace.scenarios import get_scenario
from edgeplace.serve import served_policies
from edgeplace.serve.metaverse_dag_placer import MetaverseDagPlacer
from edgeplace.serve.metaverse_dag_schemas import (
    MetaverseBatchPlacement,
    MetaversePlaceBatchRequest,
    MetaversePlacement,
    MetaversePlaceRequest,
)
from edgeplace.serve.routes import Route, create_api
from edgeplace.serve.settings import ServeArgs
from edgeplace.serve.sources import resolve_sources
from tests.algos.test_llm_mappo_training import tiny

TOP_K = 3
TOLERANCE = 2e-6
"""Responses round floats to 6 decimals, and a batched float32 forward may differ from a single one in the
last bits."""
POLICY = "mappo"
PLACE, PLACE_BATCH = Route.PLACE.of(SCENARIO_ID), Route.PLACE_BATCH.of(SCENARIO_ID)


@functools.cache
def _train_tiny_mappo(root: Path) -> Path:
    return train(tiny("mappo"), root / "metaverse_dag_serve_run").checkpoint


@pytest.fixture(scope="module")
def checkpoint(ray_session, tmp_path_factory) -> Path:
    """A tiny trained MAPPO checkpoint (GRU agent), trained once per test session."""
    return _train_tiny_mappo(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def served(checkpoint) -> Iterator[served_policies.ServedPolicies]:
    """The checkpoint as the replica loads it; the placer stands in for the spec's until it names one."""
    args = ServeArgs.model_validate({"checkpoints": [f"{POLICY}={checkpoint}"], "top_k": TOP_K})
    with pytest.MonkeyPatch.context() as patch:
        if get_scenario(SCENARIO_ID).placer is None:
            real = served_policies.placer_class
            patch.setattr(
                served_policies,
                "placer_class",
                lambda scenario: MetaverseDagPlacer if scenario == SCENARIO_ID else real(scenario),
            )
        yield served_policies.ServedPolicies(resolve_sources(args, [SCENARIO_ID]), top_k=TOP_K)


@pytest.fixture(scope="module")
def placer(served) -> MetaverseDagPlacer:
    return served.placer(SCENARIO_ID, None)


@pytest.fixture(scope="module")
def client(served) -> Iterator[TestClient]:
    """The replica's FastAPI app in process; ``/place`` places each job alone (a batch of one)."""
    args = ServeArgs.model_validate({"checkpoints": [f"{POLICY}=unused"], "top_k": TOP_K})

    async def place_one(placer, job):
        return placer.place([job])[0]

    with TestClient(create_api(served, place_one, args)) as test_client:
        yield test_client


def example(placer: MetaverseDagPlacer) -> dict:
    return placer.example().model_dump(mode="json")


def twin_chain(region: int | None = None, origin_es: int | None = None) -> dict:
    """A TWIN chain of 4 light microservices, the last stateful."""
    services = [{"cpu": 0.3, "ram_gb": 0.25, "stateful": i == 3} for i in range(4)]
    for i, service in enumerate(services[1:], start=1):
        service |= {"parents": [i - 1], "payload_fractions": [0.02]}
    request = {"service_class": "TWIN", "microservices": services, "deadline_s": 0.03}
    return (
        request
        | ({} if region is None else {"region": region})
        | ({} if origin_es is None else {"origin_es": origin_es})
    )


def assert_same(placed: object, expected: object, path: str = "") -> None:
    """Equal JSON documents, floats within :data:`TOLERANCE`."""
    if isinstance(expected, dict):
        assert isinstance(placed, dict) and placed.keys() == expected.keys(), path
        for key in expected:
            assert_same(placed[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(placed, list) and len(placed) == len(expected), path
        for index, (item, other) in enumerate(zip(placed, expected, strict=True)):
            assert_same(item, other, f"{path}[{index}]")
    elif isinstance(expected, float):
        assert placed == pytest.approx(expected, abs=TOLERANCE), path
    else:
        assert placed == expected, path


def test_the_example_is_placed_by_the_restored_policy_greedy_action(placer, checkpoint):
    body = MetaversePlaceRequest.model_validate(example(placer))
    job = placer.job(body)
    (document,) = placer.place([job])
    placed = MetaversePlacement.model_validate_json(document)
    fresh = get_scenario(SCENARIO_ID).policy_from_checkpoint(checkpoint)  # GRU from its initial state
    agent = placer.agent_ids[job.region]
    (action,) = fresh.act_batch([agent], [job.observation])
    c, s = job.dag.service_class, placer.layout.num_slots
    region_nodes = set(placer.options.option_node[job.region].tolist()) - {-1}
    for index, service in enumerate(placed.microservices):
        assert service.index == index and service.replicas[0].node is not None  # replica 0 is placed
        for r, replica in enumerate(service.replicas):
            assert replica.option == action[placer.slot_of[c][index, r]]
            assert replica.node is None or replica.node in region_nodes
            assert replica.candidates[0].option == replica.option
            assert replica.candidates[0].probability == pytest.approx(replica.probability, abs=1e-6)
        assert service.nodes == [
            replica.node_name for replica in service.replicas if replica.node is not None
        ]
    entries = np.flatnonzero(job.workload.edges[2])
    assert [edge.pattern for edge in placed.edges] == action[s + entries].tolist()
    assert {(e.source, e.destination) for e in placed.edges} == {(0, 1), (0, 2), (1, 3), (2, 3)}
    assert placed.agent == agent and placed.policy == POLICY and not placed.overcommitted_nodes


def test_a_batch_places_as_its_requests_one_by_one(placer):
    body = example(placer)
    requests = [
        body["request"],
        twin_chain(region=2),
        twin_chain(origin_es=5),
        body["request"] | {"region": 3},
    ]
    batch = MetaversePlaceBatchRequest.model_validate({"state": body["state"], "requests": requests})
    placed = MetaverseBatchPlacement.model_validate_json(placer.place_batch(batch))
    singles = [
        json.loads(
            placer.place(
                [placer.job(MetaversePlaceRequest.model_validate({"state": body["state"], "request": r}))]
            )[0]
        )
        for r in requests
    ]
    assert_same([p.model_dump(mode="json") for p in placed.placements], singles)
    assert placed.placements[2].region == int(placer.net.region[5])


def test_no_replica_goes_to_a_node_that_is_down(placer):
    body = example(placer)
    region = body["request"]["region"]
    members = [
        int(node) for node in placer.options.option_node[region] if node >= 0 and node != placer.net.cloud
    ]
    up = list(body["state"]["node_up"])
    for node in members[::2] + [placer.net.ec(region)]:
        up[node] = False
    state = body["state"] | {"node_up": up}
    job = placer.job(MetaversePlaceRequest.model_validate({"state": state, "request": body["request"]}))
    placed = MetaversePlacement.model_validate_json(placer.place([job])[0])
    nodes = {replica.node for service in placed.microservices for replica in service.replicas} - {None}
    assert nodes and all(up[node] for node in nodes)
    down_options = {
        int(o) for o, node in enumerate(placer.options.option_node[region]) if node >= 0 and not up[node]
    }
    listed = {c.option for service in placed.microservices for r in service.replicas for c in r.candidates}
    assert not listed & down_options  # masked: never even a candidate


def test_the_routes_answer_the_openapi_example(client, placer):
    document = client.get("/openapi.json").json()["components"]["schemas"]
    body = document[MetaversePlaceRequest.__name__]["examples"][0]
    state = document["MetaverseNetworkState"]["properties"]
    assert state["node_up"]["maxItems"] == state["node_up"]["minItems"] == placer.num_nodes
    assert state["es_rate"]["maxItems"] == placer.net.num_es
    answer = client.post(PLACE, json=body)
    assert answer.status_code == 200, answer.text
    MetaversePlacement.model_validate(answer.json())
    batch = client.post(PLACE_BATCH, json={"state": body["state"], "requests": [body["request"]] * 2})
    assert batch.status_code == 200, batch.text
    MetaverseBatchPlacement.model_validate(batch.json())
    assert_same(batch.json()["placements"], [answer.json()] * 2)


def bad_cases(placer: MetaverseDagPlacer) -> list[tuple[str, dict, int, str]]:
    """(name, body, status, field) of bodies the routes must refuse."""
    body = example(placer)
    state, request = body["state"], body["request"]
    n, es, k = placer.num_nodes, placer.net.num_es, placer.net.num_regions
    too_many = placer.layout.max_ms[0] + 1
    chain = [{"cpu": 1.0, "ram_gb": 1.0}] + [
        {"cpu": 1.0, "ram_gb": 1.0, "parents": [i - 1], "payload_fractions": [0.03]}
        for i in range(1, too_many)
    ]
    cycle = [
        {"cpu": 1.0, "ram_gb": 1.0},
        {"cpu": 1.0, "ram_gb": 1.0, "parents": [0, 2], "payload_fractions": [0.03, 0.03]},
        {"cpu": 1.0, "ram_gb": 1.0, "parents": [1], "payload_fractions": [0.03]},
    ]
    down = list(state["node_up"])
    down[3] = False
    ms = request["microservices"]

    def with_ms(index: int, **changes) -> dict:
        return request | {"microservices": [m | changes if i == index else m for i, m in enumerate(ms)]}

    unregioned = {key: value for key, value in request.items() if key != "region"}
    return [
        (
            "cycle",
            {"state": state, "request": request | {"microservices": cycle}},
            422,
            "request.microservices[1].parents",
        ),
        (
            "too many microservices",
            {"state": state, "request": request | {"microservices": chain}},
            422,
            "request.microservices",
        ),
        (
            "unknown class",
            {"state": state, "request": request | {"service_class": "VR"}},
            422,
            "request.service_class",
        ),
        (
            "short array",
            {"state": state | {"reserved_cpu": [0.0] * (n - 1)}, "request": request},
            422,
            "state.reserved_cpu",
        ),
        (
            "rates of every node",
            {"state": state | {"es_rate": [1.0] * n}, "request": request},
            422,
            "state.es_rate",
        ),
        (
            "not a flag",
            {"state": state | {"node_up": [True] * 3 + ["yes"] + [True] * (n - 4)}, "request": request},
            422,
            "state.node_up[3]",
        ),
        ("hour 24", {"state": state | {"hour": 24.0}, "request": request}, 422, "state.hour"),
        ("region out of range", {"state": state, "request": request | {"region": k}}, 422, "request.region"),
        ("no region", {"state": state, "request": unregioned}, 422, "request.region"),
        (
            "origin down",
            {"state": state | {"node_up": down}, "request": unregioned | {"origin_es": 3}},
            422,
            "request.origin_es",
        ),
        (
            "origin out of range",
            {"state": state, "request": unregioned | {"origin_es": es}},
            422,
            "request.origin_es",
        ),
        (
            "origin elsewhere",
            {
                "state": state,
                "request": request | {"origin_es": int(np.flatnonzero(placer.net.region[:es] != 0)[0])},
            },
            422,
            "request.origin_es",
        ),
        (
            "fractions per parent",
            {"state": state, "request": with_ms(1, payload_fractions=[])},
            422,
            "request.microservices[1].payload_fractions",
        ),
        (
            "parent out of range",
            {"state": state, "request": with_ms(1, parents=[9])},
            422,
            "request.microservices[1].parents[0]",
        ),
        (
            "own parent",
            {"state": state, "request": with_ms(1, parents=[1])},
            422,
            "request.microservices[1].parents[0]",
        ),
        (
            "entry with a parent",
            {"state": state, "request": with_ms(0, parents=[1], payload_fractions=[0.03])},
            422,
            "request.microservices[0].parents",
        ),
        (
            "orphan",
            {"state": state, "request": with_ms(2, parents=[], payload_fractions=[])},
            422,
            "request.microservices[2].parents",
        ),
        (
            "no node holds it",
            {"state": state, "request": with_ms(1, cpu=5000.0)},
            409,
            "request.microservices[1]",
        ),
        ("unknown field", {"state": state, "request": request | {"priority": 1}}, 422, "request.priority"),
        ("no request", {"state": state}, 422, "request"),
    ]


def test_bad_bodies_get_a_4xx_naming_the_field(client, placer):
    for name, body, status, field in bad_cases(placer):
        answer = client.post(PLACE, json=body)
        assert (answer.status_code, answer.json()["field"]) == (status, field), (name, answer.text)
    body = example(placer)
    batch = {"state": body["state"], "requests": [body["request"], body["request"] | {"region": 99}]}
    answer = client.post(PLACE_BATCH, json=batch)
    assert (answer.status_code, answer.json()["field"]) == (422, "requests[1].region")
    assert client.post(PLACE, json=body).status_code == 200  # still serving
