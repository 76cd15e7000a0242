"""Fixtures of the proof suite: real servers on loopback, real HTTP, real SQLite.

`serve(**options)` starts an in-process server (module scope, like
tests/local, so a module's tests share the servers they start); the
out-of-process server that a test can SIGKILL lives in support.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from speechgen_jupyter.local import LocalServer, start


@pytest.fixture(scope="module")
def serve() -> Iterator[Callable[..., LocalServer]]:
    started: list[LocalServer] = []

    def factory(**options: Any) -> LocalServer:
        server = start(**options)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def speech_mp3() -> bytes:
    """12 s of real speech (the engine's own voice) as MP3: passes every upload check."""
    from media import speech_file

    return speech_file("mp3", 12.0, voice="en-us-male-2")
