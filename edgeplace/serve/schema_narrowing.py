"""Narrowing a scenario's request schemas, in an OpenAPI document's components, to the served
topologies: the helpers each placer's ``narrow_schema`` uses (:mod:`edgeplace.serve.openapi` calls it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

#: The JSON Schema components of an OpenAPI document, by model name.
SchemaComponents = dict[str, dict[str, Any]]


def schema_property(components: SchemaComponents, model: type[BaseModel], field: str) -> dict[str, Any]:
    """The JSON schema of ``model.field`` among ``components`` (to narrow it in place)."""
    assert field in model.model_fields, f"{model.__name__} has no field {field!r}"
    return components[model.__name__]["properties"][field]


def narrow_lengths(
    components: SchemaComponents, model: type[BaseModel], fields: Sequence[str], lengths: Sequence[int]
) -> None:
    """Bound the arrays ``model.fields`` to the range of ``lengths`` (one per served policy)."""
    for field in fields:
        array = schema_property(components, model, field)
        array["minItems"], array["maxItems"] = min(lengths), max(lengths)


def narrow_index(
    components: SchemaComponents, model: type[BaseModel], field: str, counts: Sequence[int]
) -> None:
    """Bound the index ``model.field`` below the largest of ``counts`` (one per served policy)."""
    schema_property(components, model, field)["maximum"] = max(counts) - 1
