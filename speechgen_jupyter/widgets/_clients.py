"""Which client a widget talks through.

Widgets default to the shared client (the one the magics use), so a user who
configured a key once, or nobody at all (then the local server starts),
gets widgets that just work. They are synchronous, driven from threads, so
they take a `Client`, never an `AsyncClient`.
"""

from __future__ import annotations

from typing import Any

from ..client import AsyncClient, Client

__all__ = ["resolve_client"]


def resolve_client(client: Any = None) -> Client:
    if client is None:
        from .._shared import get_client

        return get_client()
    if isinstance(client, AsyncClient):
        raise TypeError(
            "The widgets take a speechgen_jupyter.Client (they run their requests in threads); "
            "pass Client(...) or nothing (the shared client), not an AsyncClient."
        )
    if not isinstance(client, Client):
        raise TypeError(f"client must be a speechgen_jupyter.Client, not {type(client).__name__}")
    return client
