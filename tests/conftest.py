"""Fixtures shared by the whole suite.

`make_client` builds a Client or an AsyncClient (the `flavour` parameter) and
wraps the async one so tests call it exactly like the sync one: every client
test then runs twice, once per flavour, from one body.

`server_mode` is "full" (the local server with this project's extras) or
"page-only" (only what Speechgen's public page documents: the stand-in for
the real service). Every test that uses it, directly or through a fixture
such as magics_env's `server`, runs once per mode, the module's servers shared
per mode; `@pytest.mark.server_modes("full")` keeps a test to the modes named
(for a test of an extra itself). `page_only` says which mode a test is in.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import anyio.from_thread
import httpx
import pytest

import speechgen_jupyter as sg

from fakes import KEY
from speechgen_jupyter.local import LocalServer, start

SERVER_MODES = ("full", "page-only")


class AsyncAdapter:
    """Calls an AsyncClient's coroutines on a long-lived event loop in another thread."""

    def __init__(self, client: sg.AsyncClient, portal: Any) -> None:
        self._client = client
        self._portal = portal

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if inspect.iscoroutinefunction(attr):
            return lambda *a, **k: self._portal.call(lambda: attr(*a, **k))
        if inspect.isasyncgenfunction(attr):

            async def collect(*a: Any, **k: Any) -> list[Any]:
                return [x async for x in attr(*a, **k)]

            return lambda *a, **k: iter(self._portal.call(lambda: collect(*a, **k)))
        return attr

    def close(self) -> None:
        self._portal.call(self._client.aclose)

    def __repr__(self) -> str:
        return repr(self._client)


@pytest.fixture(scope="session")
def portal() -> Iterator[Any]:
    with anyio.from_thread.start_blocking_portal() as p:
        yield p


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_client(flavour: str, portal: Any) -> Iterator[Callable[..., Any]]:
    """make_client(handler=None, **options): a client of this test's flavour.

    With `handler`, requests go to an httpx.MockTransport calling it (for faults
    that cannot be made for real); without, to a real network transport.
    """
    made: list[Any] = []

    def factory(handler: Callable[[httpx.Request], httpx.Response] | None = None, **options: Any) -> Any:
        options.setdefault("api_key", KEY)
        options.setdefault("base_url", "https://api.speechgen.test")
        if flavour == "sync":
            if handler is not None:
                options["transport"] = httpx.MockTransport(handler)
            client: Any = sg.Client(**options)
        else:
            if handler is not None:

                async def async_handler(request: httpx.Request) -> httpx.Response:
                    await request.aread()
                    return handler(request)

                options["transport"] = httpx.MockTransport(async_handler)
            client = AsyncAdapter(sg.AsyncClient(**options), portal)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "server_mode" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("server_modes")
        modes = marker.args if marker else SERVER_MODES
        unknown = set(modes) - set(SERVER_MODES)
        if unknown:
            raise ValueError(f"unknown server modes {sorted(unknown)}; the modes are {SERVER_MODES}")
        metafunc.parametrize("server_mode", modes, indirect=True, scope="module")


_MODE_DATA_DIRS: dict[tuple[str, str], Any] = {}


@pytest.fixture(scope="module")
def server_mode(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The mode of the module's local servers; while it lasts, the module has one data folder per mode.

    Set here, before any module-scoped server or model exists, so the client's record of the
    models the module makes lives exactly as long as the server that holds them.
    """
    mode = str(request.param)
    folder = tmp_path_factory.mktemp(f"data-{mode}")
    _MODE_DATA_DIRS[(request.module.__name__, mode)] = folder
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPEECHGEN_DATA_DIR", str(folder))
        yield mode


@pytest.fixture(scope="module")
def page_only(server_mode: str) -> bool:
    """True when this test runs against a page-only server."""
    return server_mode == "page-only"


def pytest_configure(config: pytest.Config) -> None:
    """Nothing the suite runs, kernels and Jupyter servers included, writes into the user's own folders.

    Set before any fixture or subprocess exists, so they all inherit it; each
    test then gets folders of its own (`_own_user_dirs`).
    """
    import os
    import tempfile

    root = tempfile.mkdtemp(prefix="speechgen-tests-")
    os.environ["SPEECHGEN_DATA_DIR"] = os.path.join(root, "data")
    os.environ["SPEECHGEN_CACHE_DIR"] = os.path.join(root, "cache")
    # Clones fit with no search beyond the measured move (a real one searches ~50 s): the suite clones
    # a hundred voices. Tests of the search itself ask for a budget with start(clone_seconds=...).
    os.environ.setdefault("SPEECHGEN_LOCAL_CLONE_SECONDS", "0")


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's real key or server by accident."""
    monkeypatch.delenv("SPEECHGEN_API_KEY", raising=False)
    monkeypatch.delenv("SPEECHGEN_BASE_URL", raising=False)


@pytest.fixture(autouse=True)
def _own_user_dirs(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Each test starts with an empty data and cache folder: nothing remembered from another test.

    Except one thing: a test on its module's shared local server (it uses `server_mode`) shares
    that module's data folder for that mode. The server's models outlive each test, and the
    client's record of them must too, or a page-only server's models would vanish between tests.
    """
    root = tmp_path_factory.mktemp("user-dirs")
    dirs = {"data": root / "data", "cache": root / "cache"}
    if "server_mode" in request.fixturenames:
        dirs["data"] = _MODE_DATA_DIRS[(request.module.__name__, request.getfixturevalue("server_mode"))]
    monkeypatch.setenv("SPEECHGEN_DATA_DIR", str(dirs["data"]))
    monkeypatch.setenv("SPEECHGEN_CACHE_DIR", str(dirs["cache"]))
    return dirs


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the delays the client asks for (retry backoff, polling) instead of waiting them out."""
    recorded: list[float] = []

    async def fake_async_sleep(delay: float) -> None:
        recorded.append(delay)

    monkeypatch.setattr("speechgen_jupyter.client._sleep", recorded.append)
    monkeypatch.setattr("speechgen_jupyter.client._async_sleep", fake_async_sleep)
    return recorded


# Local servers and a speech sample, shared by tests/local and tests/proof.
@pytest.fixture(scope="module")
def serve() -> Iterator[Callable[..., LocalServer]]:
    """serve(**options) starts a local server that stops with the module (`page_only=True` for the strict one)."""
    started: list[LocalServer] = []

    def factory(**options: Any) -> LocalServer:
        server = start(**options)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def page_server(serve: Callable[..., LocalServer]) -> LocalServer:
    """A page-only local server whose models read ready at once: the real service as its page documents it."""
    return serve(page_only=True, transition="immediate")


@pytest.fixture(scope="session")
def speech_mp3() -> bytes:
    """12 s of real speech (the engine's own voice) as MP3: passes every upload check."""
    from media import speech_file

    return speech_file("mp3", 12.0, voice="en-us-male-2")
