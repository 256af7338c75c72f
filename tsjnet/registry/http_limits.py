"""A request body limit for `mlflow models serve`, which has none of its own.

`mlflow models serve` runs uvicorn on MLflow's FastAPI app, and neither MLflow nor uvicorn (nor Starlette as
MLflow builds it) caps the body: the whole request is read into memory and parsed as JSON before the model can
refuse anything. Uvicorn reads its command-line options from ``UVICORN_*`` environment variables, and
``UVICORN_HTTP`` accepts the import path of an HTTP protocol class; `BodyLimitedH11Protocol` is uvicorn's own
h11 protocol with the app wrapped in `BodyLimit`. So the limit is two environment variables on the serving
process (`tsjnet.registry.serving.serve_env`), and nothing in MLflow is patched. A missing or malformed limit
fails every connection with an error naming the variable (in the server log) rather than serving unlimited:

    UVICORN_HTTP=tsjnet.registry.http_limits:BodyLimitedH11Protocol TSJNET_MAX_BODY_BYTES=67108864 \\
        mlflow models serve -m models:/tsjnet@champion --env-manager local
"""

from __future__ import annotations

import os
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from tsjnet.errors import TsjnetError

LIMIT_VARIABLE = "TSJNET_MAX_BODY_BYTES"
PROTOCOL = f"{__name__}:BodyLimitedH11Protocol"


def max_body_bytes() -> int:
    """The limit in ``TSJNET_MAX_BODY_BYTES`` (params register.max_body_bytes), checked."""
    text = os.environ.get(LIMIT_VARIABLE)
    if text is None or not text.isdigit() or int(text) < 1:
        raise TsjnetError(f"{LIMIT_VARIABLE}={text!r} is not a positive number of bytes; uvicorn serves with "
                          f"{PROTOCOL}, which needs it: set it to params register.max_body_bytes (e.g. 67108864)")
    return int(text)


class BodyLimit:
    """ASGI middleware: a body above `limit` bytes gets HTTP 413 with a JSON message and never reaches the app.

    A declared Content-Length is refused before anything is read; otherwise (chunked uploads) the body is read
    here, counted as it arrives, and handed to the app whole once it is known to fit. The app therefore never
    sees a cut-off body, which MLflow's server would answer with a 500 instead of the 413.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send, f"request body of {int(declared)} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._refuse(scope, receive, send, f"request body of at least {size} bytes")
                return
            more = message.get("more_body", False)
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, what: str) -> None:
        message = (f"{what} exceeds the limit of {self.limit} bytes; send fewer rows or smaller images "
                   f"(limit: params register.max_body_bytes, {LIMIT_VARIABLE})")
        response = JSONResponse({"error_code": "REQUEST_LIMIT_EXCEEDED", "message": message}, status_code=413)
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive callable that yields the already-read `body` once, then defers to `receive` (disconnects)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


class BodyLimitedH11Protocol(H11Protocol):
    """Uvicorn's h11 protocol serving the app behind `BodyLimit` (selected with ``UVICORN_HTTP``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = BodyLimit(self.app, max_body_bytes())
