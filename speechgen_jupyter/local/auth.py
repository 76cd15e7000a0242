"""Bearer-key authentication, as the page asks: `Authorization: Bearer <key>` on every request.

Two paths are public: `/openapi.json` (a schema is no secret, and tools read
it before they have a key) and `/cdn/samples/...`, whose 192-bit random
tokens are the access control, as on a CDN; a notebook can hand such a URL to
an audio player without handing over the key. A page-only server has no
/openapi.json, so there that path is as private as any other unknown one.
"""

from __future__ import annotations

import hmac
from typing import Any

from .problems import send_error

PUBLIC_PREFIXES = ("/cdn/samples/",)


def is_public(path: str, public_paths: tuple[str, ...] = ()) -> bool:
    return path in public_paths or path.startswith(PUBLIC_PREFIXES)


class BearerAuthMiddleware:
    def __init__(self, app: Any, api_key: str, public_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self._key = api_key.encode()
        self._public = public_paths

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or is_public(scope["path"], self._public):
            await self.app(scope, receive, send)
            return
        values = [v for k, v in scope["headers"] if k == b"authorization"]
        challenge = {"WWW-Authenticate": 'Bearer realm="speechgen-local"'}
        if not values:
            await send_error(
                send, 401, "missing_api_key",
                "No API key: send it as 'Authorization: Bearer <key>' (the local server prints its key at start).",
                challenge,
            )
            return
        scheme, _, token = values[0].strip().partition(b" ")
        # compare_digest takes time independent of where the strings differ.
        if len(values) != 1 or scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self._key):
            await send_error(
                send, 401, "invalid_api_key",
                "The API key is wrong: use the key this local server printed at start (LocalServer.api_key).",
                challenge,
            )
            return
        await self.app(scope, receive, send)
