"""The Serve contract of every servable scenario: one application serves each scenario's smoke-trained
checkpoint; ``/place`` and ``/place-batch`` answer the OpenAPI example, and a body without its request
gets a 422 naming the field."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from edgeplace.serve.placer import ScenarioSchemas
from edgeplace.serve.routes import Route
from edgeplace.serve.server import APP_NAME
from tests.contract.conftest import SCENARIOS, smoke_of
from tests.serve.conftest import START_TIMEOUT_S, free_port, wait_healthy

SERVABLE = [spec for spec in SCENARIOS if spec.placer is not None]


@pytest.fixture(scope="module")
def client(trained) -> Iterator[httpx.Client]:
    """A client of one application serving every servable scenario's smoke checkpoint."""
    from ray import serve

    from edgeplace.serve.app import build_app

    checkpoints = [f"{spec.scenario_id}={trained(smoke_of(spec)).checkpoint}" for spec in SERVABLE]
    port = free_port()
    serve.start(proxy_location="HeadOnly", http_options={"host": "127.0.0.1", "port": port})
    try:
        serve.run(
            build_app({"checkpoints": checkpoints, "replica_cpus": 0.1}), name=APP_NAME, route_prefix="/"
        )
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60.0) as http:
            wait_healthy(http, START_TIMEOUT_S)
            yield http
    finally:
        serve.shutdown()


@pytest.fixture(params=SERVABLE, ids=[spec.scenario_id for spec in SERVABLE])
def example(request, client) -> tuple[str, ScenarioSchemas, dict]:
    """(scenario id, its route bodies, its OpenAPI ``place`` example) of each servable scenario."""
    spec = request.param
    schemas = spec.placer_class().schemas
    components = client.get("/openapi.json").json()["components"]["schemas"]
    return spec.scenario_id, schemas, components[schemas.place_request.__name__]["examples"][0]


def test_place_and_place_batch_answer_the_example(client, example):
    scenario_id, schemas, body = example
    placed = client.post(Route.PLACE.of(scenario_id), json=body)
    assert placed.status_code == 200, placed.text
    schemas.placement.model_validate(placed.json())
    batch = {"state": body["state"], "requests": [body["request"], body["request"]], "policy": body["policy"]}
    placed_batch = client.post(Route.PLACE_BATCH.of(scenario_id), json=batch)
    assert placed_batch.status_code == 200, placed_batch.text
    answer = schemas.batch_placement.model_validate(placed_batch.json())
    assert [len(value) for value in answer.model_dump().values() if isinstance(value, list)] == [2]


def test_a_body_without_its_request_is_a_422_naming_the_field(client, example):
    scenario_id, _, body = example
    answer = client.post(Route.PLACE.of(scenario_id), json={"state": body["state"]})
    assert answer.status_code == 422
    assert "request" in answer.json()["field"]
