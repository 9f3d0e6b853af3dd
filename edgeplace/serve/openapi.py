"""The OpenAPI document of a deployment, narrowed to what it serves.

The static schema cannot know the topology: this fills in, from the served policies, the per-node
array lengths, the node and request-index ranges, the policy names and the batch limit, and adds a
request example that places as is. Clients and fuzzers (schemathesis) then see the real contract.
When policies differ in node count, the lengths become a range: a body can then match the schema
and still get a 422 for the policy it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from edgeplace.serve.genai_chain_placer import ChainPlacer
from edgeplace.serve.schemas import ChainNetworkState, ChainPlaceBatchRequest, ChainPlaceRequest, ChainRequest

JsonSchema = dict[str, Any]


def _property(components: Mapping[str, JsonSchema], model: type[BaseModel], field: str) -> JsonSchema:
    """The JSON schema of ``model.field`` inside the document's components."""
    assert field in model.model_fields, f"{model.__name__} has no field {field!r}"
    return components[model.__name__]["properties"][field]


def narrow_chain_schema(
    document: JsonSchema, placers: Mapping[str, ChainPlacer], max_batch_requests: int
) -> JsonSchema:
    """Narrow the genai-chain request schemas of ``document`` (in place) to ``placers`` (by policy
    name, the default first); returns ``document``."""
    components = document["components"]["schemas"]
    num_nodes = [placer.num_nodes for placer in placers.values()]
    for field in ("load", "telemetry"):
        array = _property(components, ChainNetworkState, field)
        array["minItems"], array["maxItems"] = min(num_nodes), max(num_nodes)
    windows = [placer.config.requests_per_episode for placer in placers.values()]
    _property(components, ChainNetworkState, "request_index")["maximum"] = min(windows) - 1
    _property(components, ChainRequest, "access_node")["maximum"] = max(num_nodes) - 1
    for model in (ChainPlaceRequest, ChainPlaceBatchRequest):
        policy = _property(components, model, "policy")
        policy["anyOf"] = [{"type": "string", "enum": list(placers)}, {"type": "null"}]
    _property(components, ChainPlaceBatchRequest, "requests")["maxItems"] = max_batch_requests
    example = next(iter(placers.values())).example()
    components[ChainPlaceRequest.__name__]["examples"] = [example.model_dump(mode="json")]
    return document


def install_served_openapi(
    app: FastAPI, chain_placers: Mapping[str, ChainPlacer], max_batch_requests: int
) -> None:
    """Make ``app.openapi()`` (``/openapi.json``, ``/docs``) return the narrowed document."""
    generate = app.openapi

    def openapi() -> JsonSchema:
        if app.openapi_schema is None:
            app.openapi_schema = narrow_chain_schema(generate(), chain_placers, max_batch_requests)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
