"""Fixtures for the widgets' kernel-side tests: a real local server, a client that counts its requests.

Nothing is mocked. The widgets run their requests in threads against the
bundled local server (admin routes on, so a test can switch how new models
progress, or slow a path down, while it serves). A test "clicks" by calling
the handlers the buttons call, and "picks a file" the way the browser does:
a state update of the FileUpload. Use it from a test module with:

    pytest_plugins = ["widgets_env"]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from ipywidgets import Widget

import speechgen_jupyter as sg
from speechgen_jupyter.local import LocalServer, start


@pytest.fixture(scope="module")
def wserver(page_only: bool) -> Iterator[LocalServer]:
    """Full, then page-only (`server_mode`): every widget test that uses it runs against both."""
    with start(transition="immediate", admin=True, page_only=page_only) as srv:
        yield srv


class Admin:
    """The local server's state control, as a test uses it."""

    def __init__(self, server: LocalServer) -> None:
        self.http = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=30)

    def transition(self, value: Any) -> None:
        self.http.put("/_admin/transition", json=value if isinstance(value, dict) else {"progression": value}).raise_for_status()

    def faults(self, value: dict[str, Any]) -> None:
        self.http.put("/_admin/faults", json=value).raise_for_status()

    def state(self) -> dict[str, Any]:
        return self.http.get("/_admin/state").json()

    def models(self) -> int:
        return sum(self.state()["models"].values())


@pytest.fixture
def admin(wserver: LocalServer) -> Iterator[Admin]:
    a = Admin(wserver)
    yield a
    a.transition("immediate")
    a.faults({"rate": 0})
    a.http.close()


class CountingClient(sg.Client):
    """A real Client that records (method, path) of every request it sends."""

    requests: list[tuple[str, str]]

    def count(self, method: str, path_part: str = "") -> int:
        return sum(1 for m, p in self.requests if m == method and path_part in p)


@pytest.fixture
def client(wserver: LocalServer) -> Iterator[CountingClient]:
    seen: list[tuple[str, str]] = []
    http = httpx.Client(event_hooks={"request": [lambda r: seen.append((r.method, r.url.path))]})
    c = CountingClient(api_key=wserver.api_key, base_url=wserver.base_url, http_client=http)
    c.requests = seen
    yield c
    http.close()


@pytest.fixture(scope="session")
def sample_mp3() -> bytes:
    """12 s of real speech from the engine, as MP3: passes every upload check."""
    from media import speech_file

    return speech_file("mp3", 12.0)


@pytest.fixture
def closing() -> Iterator[Callable[[Widget], Any]]:
    """`closing(widget)` closes it after the test (stopping any polling thread it owns)."""
    made: list[Widget] = []

    def keep(widget: Widget) -> Any:
        made.append(widget)
        return widget

    yield keep
    for widget in made:
        widget.close()
