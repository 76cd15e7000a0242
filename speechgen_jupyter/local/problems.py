"""The one error body of the API and the exception that carries it.

The page's JavaScript reads `error.error.message`, so every failure, from a
wrong key to an unknown route to a bug, answers
`{"error": {"code": ..., "message": ...}}`. Routes raise `ApiError`; the
handlers here turn it, Starlette's HTTP exceptions and unexpected exceptions
into that body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger("speechgen_jupyter.local")


class ApiError(Exception):
    """A response the API means to give: status, machine code, human message."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> Any:
    from starlette.responses import Response

    return Response(error_body(code, message), status_code=status, media_type="application/json", headers=headers)


# Starlette raises HTTPException for routing failures; give them codes and words.
_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request is malformed."),
    404: ("not_found", "There is no such endpoint. See /openapi.json for the API."),
    405: ("method_not_allowed", "This endpoint does not accept that method."),
}
# A page-only server publishes no /openapi.json: every unknown path, ours included, gets this.
_PAGE_ONLY_NOT_FOUND = "There is no such endpoint: check the method and the path."


def _page_only(request: Any) -> bool:
    services = getattr(getattr(request, "app", None), "state", None)
    options = getattr(getattr(services, "services", None), "options", None)
    return bool(getattr(options, "page_only", False))


async def handle_api_error(request: Any, exc: Exception) -> Any:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def handle_http_exception(request: Any, exc: Exception) -> Any:
    status = getattr(exc, "status_code", 500)
    code, message = _HTTP_CODES.get(status, ("http_error", str(getattr(exc, "detail", "")) or "HTTP error."))
    if status == 405:
        message = f"{request.method} is not allowed on {request.url.path}."
    elif status == 404 and _page_only(request):
        message = _PAGE_ONLY_NOT_FOUND
    return error_response(status, code, message, getattr(exc, "headers", None))


async def handle_client_gone(request: Any, exc: Exception) -> Any:
    """The client hung up while sending its body (it timed out, or was interrupted).

    Nobody is left to answer, and it is not the server's fault: a traceback in
    the log (which a notebook running the server shows in whatever cell is
    running) would alarm for nothing. Nothing was stored: the body never arrived.
    """
    logger.debug("client disconnected before its request body arrived: %s %s", request.method, request.url.path)
    return error_response(400, "client_disconnected", "The client disconnected before sending its whole request.")


async def handle_unexpected(request: Any, exc: Exception) -> Any:
    # ServerErrorMiddleware calls this, then re-raises so uvicorn logs the traceback.
    return error_response(
        500, "internal_error", "The local server hit an unexpected error; the request id identifies it in the log."
    )


async def send_error(send: Any, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
    """Answer from a raw ASGI middleware, outside Starlette's routing."""
    body = error_body(code, message)
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
