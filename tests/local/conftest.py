"""Fixtures for the local server's tests: real servers on loopback, real HTTP.

`serve(**options)` starts a server (module scope: a module's tests share the
servers it starts, which keeps the suite fast) and stops it after the module.
`api_client(server)` is an httpx client holding the server's key.
`assert_error` checks the API's one error body, so every refusal test also
checks the shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
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


def api_client(server: LocalServer, **kwargs: Any) -> httpx.Client:
    kwargs.setdefault("timeout", 60)
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}, **kwargs)


@pytest.fixture(scope="module")
def server(serve: Callable[..., LocalServer]) -> LocalServer:
    """An admin-enabled server whose models read ready on their first fetch."""
    return serve(admin=True, transition="immediate")


@pytest.fixture(scope="module")
def api(server: LocalServer) -> Iterator[httpx.Client]:
    with api_client(server) as client:
        yield client


@pytest.fixture(scope="session")
def speech_mp3() -> bytes:
    """12 s of real speech (the engine's own voice) as MP3: passes every upload check."""
    from media import speech_file

    return speech_file("mp3", 12.0, voice="en-us-male-2")


@pytest.fixture(scope="session")
def other_speech_mp3() -> bytes:
    from media import speech_file

    return speech_file("mp3", 12.0, voice="en-us-female-2")


def clone(
    client: httpx.Client,
    audio: bytes,
    name: str = "Test voice",
    *,
    filename: str = "sample.mp3",
    headers: dict[str, str] | None = None,
    **fields: str,
) -> httpx.Response:
    return client.post(
        "/v1/voice-clone",
        files={"audio": (filename, audio, "audio/mpeg")},
        data={"name": name, **fields},
        headers=headers,
    )


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is `status` with exactly the API's error body (and a request id)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    assert response.headers.get("x-request-id", "").startswith("req_")
    return body["error"]


def files_under(root: Path, sub: str) -> list[str]:
    return sorted(p.name for p in (root / sub).iterdir())
