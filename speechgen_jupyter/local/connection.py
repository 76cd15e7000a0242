"""What the server knows about the connection beneath ASGI: request ids and dropping it.

`RequestIdMiddleware` is the outermost layer, so every response, including
injected faults and 500s, carries an `x-request-id`. Being outermost it also
receives the server's own `send`, from which it keeps the connection's
transport: ASGI has no message for "close the connection without a
response", and a fault injector that only pretended would never exercise a
client's handling of a lost response.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio

from .ids import new_request_id

_TRANSPORT_KEY = "speechgen.transport"
REQUEST_ID_KEY = "speechgen.request_id"


class ConnectionDropped(Exception):
    """Raised to make the server close a connection when its transport is unknown."""


class _HideDroppedConnections(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def quiet_dropped_connections() -> None:
    """Keep deliberate drops out of uvicorn's error log (idempotent)."""
    log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDroppedConnections) for f in log.filters):
        log.addFilter(_HideDroppedConnections())


class RequestIdMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        header = (b"x-request-id", request_id.encode())
        # uvicorn passes its RequestResponseCycle.send, a bound method whose object holds the transport.
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        scope = {**scope, REQUEST_ID_KEY: request_id, _TRANSPORT_KEY: transport}

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        await self.app(scope, receive, send_with_id)


async def abort_connection(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Close the client's connection without (the rest of) a response.

    With the transport known, close it and wait until the server has noticed
    (its `receive` reports the disconnect), so it neither sends a 500 nor logs
    a missing response. Otherwise start a response and fail mid-way, which
    makes any ASGI server close the connection.
    """
    transport = scope.get(_TRANSPORT_KEY)
    if transport is not None and hasattr(transport, "close"):
        transport.close()
        with anyio.move_on_after(5):  # the server reports the close at once; never hang on it
            while (await receive())["type"] != "http.disconnect":
                pass
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})
    raise ConnectionDropped("connection dropped by fault injection")


class CloseUnreadBodyMiddleware:
    """Close the connection after an answer given before the request's body was read to its end.

    A 413, a 401 or a 408 is often sent while the client is still sending. On
    a kept-alive connection the server would then go on reading, and
    discarding, whatever the client still sends, for as long as it sends it
    (a chunked body has no end the server knows of). `Connection: close` on
    such an answer makes uvicorn close the connection once it is sent.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        body_read = False

        async def receive_tracking() -> dict[str, Any]:
            nonlocal body_read
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                body_read = True
            return message

        async def send_closing(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and not body_read:
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive_tracking, send_closing)


def _has_body(scope: dict[str, Any]) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"0", b"")):
            return True
    return False
