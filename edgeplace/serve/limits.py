"""Request body size limit: neither Ray Serve nor FastAPI has one, so an ASGI middleware adds it."""

from __future__ import annotations

from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edgeplace.serve.errors import BODY_FIELD, error_response

CONTENT_LENGTH = b"content-length"


class BodyTooLarge(HTTPException):
    """Raised while the app reads a body past the limit; the error handlers answer it as a 413."""

    def __init__(self, max_bytes: int) -> None:
        detail = f"request body exceeds the limit of {max_bytes} bytes"
        super().__init__(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, detail)


class BodySizeLimit:
    """Answers 413 (an ``ErrorBody`` naming ``body``) to HTTP requests whose body exceeds ``max_bytes``.

    A declared ``Content-Length`` above the limit is refused before the app runs. Otherwise the body
    is counted as the app reads it, and the read that passes the limit raises :class:`BodyTooLarge`
    (so a chunked upload cannot grow past it). Nothing is read eagerly: under Serve every
    ``receive`` is a round trip to the proxy, which a body-less GET must not pay.

    Args:
        app: the wrapped ASGI app.
        max_bytes: largest accepted body, bytes.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(CONTENT_LENGTH, b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            detail = BodyTooLarge(self.max_bytes).detail
            await error_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, BODY_FIELD, detail)(
                scope, receive, send
            )
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)
