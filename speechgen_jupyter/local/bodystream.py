"""A request body as it arrives, with a time limit between its pieces.

Why ours: uvicorn bounds how long an idle kept-alive connection may wait for
its next request, but nothing bounds a request whose body stops arriving (a
Content-Length of 10 MB followed by a few bytes and silence). Each wait for
the next piece is limited here to `Options.body_timeout` seconds (a 408 that
names it); a client that leaves mid-body is a 400 nobody reads. Either way
the caller's cleanup runs, so a half-received upload leaves nothing behind;
and since the body was not read to its end, the answer closes the connection
(see connection.CloseUnreadBodyMiddleware).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.requests import ClientDisconnect

from .limits import BODY_IDLE_TIMEOUT_SECONDS
from .problems import ApiError

logger = logging.getLogger("speechgen_jupyter.local")


def _idle_timeout(request: Any) -> float:
    services = getattr(getattr(request.app, "state", None), "services", None)
    return float(getattr(getattr(services, "options", None), "body_timeout", BODY_IDLE_TIMEOUT_SECONDS))


async def body_chunks(request: Any) -> AsyncIterator[bytes]:
    timeout = _idle_timeout(request)
    chunks = request.stream().__aiter__()
    while True:
        try:
            with anyio.fail_after(timeout):
                chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise ApiError(
                408,
                "request_timeout",
                f"The request body stopped arriving for {timeout:g} s before it was complete; send it again "
                "(whole, and as fast as the network allows).",
            ) from None
        except ClientDisconnect:
            logger.debug("client disconnected before its request body arrived: %s %s", request.method, request.url.path)
            raise ApiError(
                400, "incomplete_upload", "The client disconnected before the request was complete; send it again."
            ) from None
        yield chunk
