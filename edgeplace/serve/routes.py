"""The FastAPI app of a placement replica: routes, body limit and error handlers.

Routes (OpenAPI at ``/docs`` and ``/openapi.json``), the placement ones for each served scenario::

    GET  /healthz                        liveness
    GET  /v1/policies                    served policies and their training metadata
    POST /v1/{scenario}/place            one request on a network state
    POST /v1/{scenario}/place-batch      many requests on one network state
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from enum import StrEnum
from http import HTTPStatus
from typing import Any, NoReturn

from fastapi import FastAPI
from fastapi.responses import Response

from edgeplace.serve.errors import PLACEMENT_ERROR_RESPONSES, ServeInputError, install_error_handlers
from edgeplace.serve.limits import BodySizeLimit
from edgeplace.serve.openapi import install_served_openapi
from edgeplace.serve.placer import ScenarioPlacer
from edgeplace.serve.schemas import Health, HealthStatus, PolicyInfo
from edgeplace.serve.served_policies import ServedPolicies
from edgeplace.serve.settings import ServeArgs

API_TITLE = "edgeplace placement API"


#: Places one job with its placer and returns its placement JSON, or the error it answers with; the
#: deployment batches concurrent calls (``@serve.batch``).
PlaceOne = Callable[[ScenarioPlacer, Any], Awaitable[bytes | ServeInputError]]


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
    install_served_openapi(
        app,
        {scenario: policies.placers(scenario) for scenario in policies.scenarios},
        args.max_batch_requests,
    )

    @app.get(Route.HEALTH)
    async def healthz() -> Health:
        return Health(status=HealthStatus.OK, policies=len(policies))

    @app.get(Route.POLICIES)
    async def list_policies() -> list[PolicyInfo]:
        return policies.infos()

    for scenario in policies.scenarios:
        add_placement_routes(app, scenario, policies, place_one, args.max_batch_requests)

    @app.post(Route.PLACE, include_in_schema=False, response_model=None)
    @app.post(Route.PLACE_BATCH, include_in_schema=False, response_model=None)
    async def unknown_scenario(scenario: str) -> NoReturn:
        raise policies.unknown_scenario(scenario)  # served scenarios matched their own routes above

    return app


def add_placement_routes(
    app: FastAPI, scenario: str, policies: ServedPolicies, place_one: PlaceOne, max_batch_requests: int
) -> None:
    """``/v1/{scenario}/place`` and ``/place-batch`` with the bodies of the scenario's placer."""
    kind = type(next(iter(policies.placers(scenario).values())))
    schemas = kind.schemas

    async def place(body: Any) -> JSONBytes:
        placer = policies.placer(scenario, body.policy)
        placement = await place_one(placer, placer.job(body))
        if isinstance(placement, ServeInputError):
            raise placement
        return JSONBytes(placement)

    async def place_batch(body: Any) -> JSONBytes:
        if len(body.requests) > max_batch_requests:
            raise ServeInputError(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "requests",
                f"at most {max_batch_requests} requests per call, got {len(body.requests)}",
            )
        return JSONBytes(policies.placer(scenario, body.policy).place_batch(body))

    for path, endpoint, body_model, response_model, summary in (
        (Route.PLACE, place, schemas.place_request, schemas.placement, kind.place_summary),
        (
            Route.PLACE_BATCH,
            place_batch,
            schemas.place_batch_request,
            schemas.batch_placement,
            kind.place_batch_summary,
        ),
    ):
        app.add_api_route(
            path.of(scenario),
            _with_body(endpoint, body_model),
            methods=["POST"],
            response_model=response_model,
            responses=PLACEMENT_ERROR_RESPONSES,
            description=summary,
            name=f"{endpoint.__name__}_{scenario}",
        )


def _with_body(endpoint: Callable[..., Any], model: type) -> Callable[..., Any]:
    """``endpoint`` with its ``body`` parameter typed as ``model``, which FastAPI then validates."""
    parameter = inspect.Parameter("body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=model)
    endpoint.__signature__ = inspect.Signature([parameter], return_annotation=JSONBytes)  # type: ignore[attr-defined]
    return endpoint
