"""The local Speechgen-compatible server: the offline default behind every tutorial and test.

    from speechgen_jupyter.local import start
    with start(transition="immediate") as server:
        client = Client(api_key=server.api_key, base_url=server.base_url)

Importing this package is cheap (standard library only): the client imports it
to find `start`, and Starlette, uvicorn and the voice engine load inside
`start()`. `python -m speechgen_jupyter.local` (or `speechgen-local`) runs it
from a shell.
"""

from __future__ import annotations

from .server import LocalServer, start

__all__ = ["LocalServer", "start"]
