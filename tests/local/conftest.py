"""Fixtures for the local server's tests: real servers on loopback, real HTTP.

`serve(**options)` starts a server (module scope: a module's tests share the
servers it starts, which keeps the suite fast) and stops it after the module.
Helpers (`api_client`, `clone`, `assert_error`...) are in helpers.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from speechgen_jupyter.local import LocalServer

from .helpers import api_client




@pytest.fixture(scope="module")
def server(serve: Callable[..., LocalServer]) -> LocalServer:
    """An admin-enabled server whose models read ready on their first fetch."""
    return serve(admin=True, transition="immediate")


@pytest.fixture(scope="module")
def api(server: LocalServer) -> Iterator[httpx.Client]:
    with api_client(server) as client:
        yield client




@pytest.fixture(scope="session")
def other_speech_mp3() -> bytes:
    from media import speech_file

    return speech_file("mp3", 12.0, voice="en-us-female-2")
