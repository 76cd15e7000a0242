"""Helpers for the local server's tests (plain functions, imported by the test modules).

They live here rather than in conftest.py: a conftest is a fixture file, and
importing from one by module name (`from conftest import ...`) collides with
the other conftest of the suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from speechgen_jupyter.local import LocalServer


def api_client(server: LocalServer, **kwargs: Any) -> httpx.Client:
    kwargs.setdefault("timeout", 60)
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}, **kwargs)


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
