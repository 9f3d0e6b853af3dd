"""Error responses of the placement API: every failure answers with one JSON shape,
:class:`~edgeplace.serve.schemas.ErrorBody`, whose ``field`` names the offending input.

Status codes: 400 unreadable body, 404 unknown scenario / policy / path, 405 wrong method, 409 a
request that cannot be placed on the served topology, 413 body too large, 422 invalid field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from edgeplace.serve.schemas import ErrorBody, FieldError

#: ``field`` of errors about the body as a whole.
BODY_FIELD = "body"
#: ``field`` of Starlette's own HTTP errors, by status (others are about the body).
_HTTP_ERROR_FIELDS: dict[int, str] = {HTTPStatus.NOT_FOUND: "path", HTTPStatus.METHOD_NOT_ALLOWED: "method"}
#: Pydantic's error type for a body that is not JSON.
_JSON_INVALID = "json_invalid"


class ServeInputError(Exception):
    """A request the API parsed but cannot serve.

    Args:
        status: the 4xx status to answer with.
        field: dotted path of the offending input (``state.load``, ``requests[3].route[2]``).
        detail: what is wrong; the response prefixes it with ``field``.
    """

    def __init__(self, status: HTTPStatus, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.status, self.field, self.detail = status, field, detail


def error_response(status: int, field: str | None, detail: str, **kwargs: Any) -> JSONResponse:
    """A JSON :class:`ErrorBody` response; ``kwargs`` go to ``JSONResponse`` (e.g. ``headers``)."""
    body = ErrorBody(detail=detail, field=field)
    return JSONResponse(body.model_dump(), status_code=status, **kwargs)


def field_path(loc: Sequence[str | int]) -> str:
    """Pydantic's error location as a dotted path: ``("body", "state", "load", 3)`` -> ``state.load[3]``."""
    parts = list(loc[1:] if loc and loc[0] == BODY_FIELD else loc)
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path or BODY_FIELD


def _field_error(error: Mapping[str, Any]) -> FieldError:
    if error.get("type") == _JSON_INVALID:
        position = error["loc"][-1]
        reason = error.get("ctx", {}).get("error", error.get("msg", ""))
        return FieldError(field=BODY_FIELD, detail=f"malformed JSON at character {position}: {reason}")
    return FieldError(field=field_path(error["loc"]), detail=str(error["msg"]))


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(error) for error in exc.errors()] or [
        FieldError(field=BODY_FIELD, detail="invalid request")
    ]
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    body = ErrorBody(detail=f"{first.field}: {first.detail}{more}", field=first.field, errors=errors)
    return JSONResponse(body.model_dump(), status_code=HTTPStatus.UNPROCESSABLE_ENTITY)


def _input_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServeInputError)
    return error_response(exc.status, exc.field, f"{exc.field}: {exc.detail}")


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    field = _HTTP_ERROR_FIELDS.get(exc.status_code, BODY_FIELD)
    return error_response(exc.status_code, field, str(exc.detail), headers=exc.headers)


def _server_error(_: Request, exc: Exception) -> JSONResponse:
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, None, f"internal error: {type(exc).__name__}")


def install_error_handlers(app: FastAPI) -> None:
    """Answer validation, input, HTTP and unexpected errors of ``app`` with :class:`ErrorBody` JSON."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ServeInputError, _input_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)


#: OpenAPI ``responses`` of a placement route: the error statuses it can answer, all ErrorBody.
PLACEMENT_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    int(status): {"model": ErrorBody, "description": description}
    for status, description in (
        (HTTPStatus.BAD_REQUEST, "Unreadable body."),
        (HTTPStatus.NOT_FOUND, "Unknown policy."),
        (HTTPStatus.CONFLICT, "The request cannot be placed on the policy's topology."),
        (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Body larger than the configured limit."),
        (HTTPStatus.UNPROCESSABLE_ENTITY, "An invalid field (named in ``field``)."),
    )
}
