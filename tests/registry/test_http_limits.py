"""The body limit as plain ASGI: refused bodies never reach the app, fitting ones arrive whole."""

from __future__ import annotations

import asyncio
import json

import pytest
from starlette.types import Message, Receive, Scope, Send

from tsjnet.errors import TsjnetError
from tsjnet.registry.http_limits import LIMIT_VARIABLE, BodyLimit, max_body_bytes

LIMIT = 10


def call(chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[list[bytes], list[Message]]:
    """Run BodyLimit(LIMIT) over a fake app for a request sent as `chunks`; (bodies the app read, messages sent)."""
    app_read: list[bytes] = []
    sent: list[Message] = []
    incoming = [{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
                for i, chunk in enumerate(chunks)]

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        app_read.append(message["body"])
        assert not message["more_body"]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    scope = {"type": "http", "method": "POST", "path": "/invocations", "headers": headers}
    asyncio.run(BodyLimit(app, LIMIT)(scope, receive, send))
    return app_read, sent


def refusal(sent: list[Message]) -> str:
    assert sent[0]["status"] == 413
    return json.loads(sent[1]["body"])["message"]


def test_declared_length_above_the_limit_is_refused_unread() -> None:
    app_read, sent = call([b"x" * 11], [(b"content-length", b"11")])
    assert app_read == []
    assert refusal(sent).startswith("request body of 11 bytes exceeds the limit of 10 bytes")


def test_chunked_body_is_counted_as_it_arrives() -> None:
    app_read, sent = call([b"x" * 6, b"x" * 6, b"x" * 6], [])
    assert app_read == []
    assert refusal(sent).startswith("request body of at least 12 bytes exceeds the limit of 10 bytes")


def test_body_within_the_limit_reaches_the_app_whole() -> None:
    app_read, sent = call([b"abcde", b"fghij"], [])
    assert app_read == [b"abcdefghij"]
    assert sent[0]["status"] == 200


def test_limit_comes_from_the_environment_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LIMIT_VARIABLE, "1024")
    assert max_body_bytes() == 1024
    for bad in ("64MB", "0", "-5"):
        monkeypatch.setenv(LIMIT_VARIABLE, bad)
        with pytest.raises(TsjnetError, match=f"{LIMIT_VARIABLE}='{bad}' is not a positive number of bytes"):
            max_body_bytes()
    monkeypatch.delenv(LIMIT_VARIABLE)
    with pytest.raises(TsjnetError, match=f"{LIMIT_VARIABLE}=None .* set it to params register.max_body_bytes"):
        max_body_bytes()
