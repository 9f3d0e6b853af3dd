"""The OpenAPI document of a deployment, narrowed to what it serves.

The static schema cannot know the topology: this fills in, from the served policies, the policy
names, the batch limit and a request example that places as is, then lets each scenario's placer
narrow its own fields (per-node array lengths, index ranges). Clients and fuzzers (schemathesis) then
see the real contract. When policies differ in node count, the lengths become a range: a body can
then match the schema and still get a 422 for the policy it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI

from edgeplace.serve.placer import ScenarioPlacer
from edgeplace.serve.schema_narrowing import schema_property

JsonSchema = dict[str, Any]


def narrow_scenario_schema(
    document: JsonSchema, placers: Mapping[str, ScenarioPlacer], max_batch_requests: int
) -> None:
    """Narrow the request schemas of one scenario in ``document`` (in place) to ``placers`` (its
    served policies by name, the default first)."""
    components = document["components"]["schemas"]
    default = next(iter(placers.values()))
    schemas = default.schemas
    for model in (schemas.place_request, schemas.place_batch_request):
        policy = schema_property(components, model, "policy")
        policy["anyOf"] = [{"type": "string", "enum": list(placers)}, {"type": "null"}]
    schema_property(components, schemas.place_batch_request, "requests")["maxItems"] = max_batch_requests
    components[schemas.place_request.__name__]["examples"] = [default.example().model_dump(mode="json")]
    type(default).narrow_schema(components, placers)


def install_served_openapi(
    app: FastAPI, placers_by_scenario: Mapping[str, Mapping[str, ScenarioPlacer]], max_batch_requests: int
) -> None:
    """Make ``app.openapi()`` (``/openapi.json``, ``/docs``) return the narrowed document."""
    generate = app.openapi

    def openapi() -> JsonSchema:
        if app.openapi_schema is None:
            document = generate()
            for placers in placers_by_scenario.values():
                narrow_scenario_schema(document, placers, max_batch_requests)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
