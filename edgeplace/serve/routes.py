"""The FastAPI app of a placement replica: routes, body limit and error handlers.

Routes (OpenAPI at ``/docs`` and ``/openapi.json``)::

    GET  /healthz                        liveness
    GET  /v1/policies                    served policies and their training metadata
    POST /v1/genai-chain/place           one request on a network state
    POST /v1/genai-chain/place-batch     many requests, each placed independently on one state
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from http import HTTPStatus
from typing import NoReturn

from fastapi import FastAPI
from fastapi.responses import Response

from edgeplace.serve.errors import PLACEMENT_ERROR_RESPONSES, ServeInputError, install_error_handlers
from edgeplace.serve.genai_chain_placer import SCENARIO_ID as CHAIN_SCENARIO
from edgeplace.serve.genai_chain_placer import ChainJob, ChainPlacer
from edgeplace.serve.limits import BodySizeLimit
from edgeplace.serve.openapi import install_served_openapi
from edgeplace.serve.schemas import (
    ChainBatchPlacement,
    ChainPlaceBatchRequest,
    ChainPlacement,
    ChainPlaceRequest,
    Health,
    HealthStatus,
    PolicyInfo,
)
from edgeplace.serve.served_policies import ServedPolicies
from edgeplace.serve.settings import ServeArgs

API_TITLE = "edgeplace placement API"


#: Places one job and returns its ``ChainPlacement`` JSON; the deployment batches concurrent calls
#: (``@serve.batch``).
PlaceOne = Callable[[ChainPlacer, ChainJob], Awaitable[bytes]]


class JSONBytes(Response):
    """A response whose body is JSON already serialised (the declared ``response_model`` documents
    it; FastAPI neither validates nor re-encodes a returned Response)."""

    media_type = "application/json"


class Route(StrEnum):
    """URL paths; the placement ones are templates over the scenario id (see :meth:`of`)."""

    HEALTH = "/healthz"
    POLICIES = "/v1/policies"
    PLACE = "/v1/{scenario}/place"
    PLACE_BATCH = "/v1/{scenario}/place-batch"

    def of(self, scenario: str) -> str:
        """The path for ``scenario``: ``Route.PLACE.of("genai-chain")`` -> ``/v1/genai-chain/place``."""
        return self.format(scenario=scenario)


def create_api(policies: ServedPolicies, place_one: PlaceOne, args: ServeArgs) -> FastAPI:
    """The replica's FastAPI app over ``policies``; ``/place`` goes through ``place_one``."""
    app = FastAPI(
        title=API_TITLE,
        description="Service placement on edge networks with trained RLlib policies. Errors are JSON "
        "`{detail, field}` naming the offending field.",
    )
    app.add_middleware(BodySizeLimit, max_bytes=args.max_body_bytes)
    install_error_handlers(app)
    install_served_openapi(app, policies.placers(CHAIN_SCENARIO), args.max_batch_requests)

    @app.get(Route.HEALTH)
    async def healthz() -> Health:
        return Health(status=HealthStatus.OK, policies=len(policies))

    @app.get(Route.POLICIES)
    async def list_policies() -> list[PolicyInfo]:
        return policies.infos()

    @app.post(
        Route.PLACE.of(CHAIN_SCENARIO), response_model=ChainPlacement, responses=PLACEMENT_ERROR_RESPONSES
    )
    async def place_chain(body: ChainPlaceRequest) -> JSONBytes:
        """Place the 5 stages of one request on the given network state."""
        placer = policies.placer(CHAIN_SCENARIO, body.policy)
        load, telemetry = placer.state_arrays(body.state)
        job = placer.job(load, telemetry, body.state.request_index, body.request, field="request")
        return JSONBytes(await place_one(placer, job))

    @app.post(
        Route.PLACE_BATCH.of(CHAIN_SCENARIO),
        response_model=ChainBatchPlacement,
        responses=PLACEMENT_ERROR_RESPONSES,
    )
    async def place_chain_batch(body: ChainPlaceBatchRequest) -> JSONBytes:
        """Place each request independently on the same network state: 5 batched forwards in all."""
        if len(body.requests) > args.max_batch_requests:
            raise ServeInputError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "requests",
                f"at most {args.max_batch_requests} requests per call, got {len(body.requests)}",
            )
        placer = policies.placer(CHAIN_SCENARIO, body.policy)
        load, telemetry = placer.state_arrays(body.state)
        jobs = [
            placer.job(load, telemetry, body.state.request_index, request, field=f"requests[{index}]")
            for index, request in enumerate(body.requests)
        ]
        return JSONBytes(placer.place(jobs).batch_json())

    @app.post(Route.PLACE, include_in_schema=False, response_model=None)
    @app.post(Route.PLACE_BATCH, include_in_schema=False, response_model=None)
    async def unknown_scenario(scenario: str) -> NoReturn:
        raise policies.unknown_scenario(scenario)  # served scenarios matched their own routes above

    return app
