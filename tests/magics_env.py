"""Fixtures for the magics, tables and batch tests: a real local server, a real IPython shell.

Nothing here is mocked. `server` is the bundled local server on loopback
(models read ready at once: the "immediate" progression), once full and once
page-only (`server_mode`: every test that uses it runs against both); `shell`
is an IPython `InteractiveShell` with the extension loaded, speaking to it
through the shared client. Use them from a test module with:

    pytest_plugins = ["magics_env"]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import speechgen_jupyter as sg
from speechgen_jupyter.local import LocalServer, start


@pytest.fixture(scope="module")
def server(page_only: bool) -> Iterator[LocalServer]:
    with start(transition="immediate", page_only=page_only) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: LocalServer) -> Iterator[sg.Client]:
    with sg.Client(api_key=server.api_key, base_url=server.base_url) as c:
        yield c


@pytest.fixture(scope="module")
def voice_id(client: sg.Client, page_only: bool, request: pytest.FixtureRequest) -> str:
    """A voice to speak with, found as a user finds one (never hard-coded).

    A built-in voice, as the server lists it; page-only, where nothing lists
    voices, the voice of a model cloned for the module (`ready_model`).
    """
    if page_only:
        return str(request.getfixturevalue("ready_model").voice_id)
    return next(v.voice_id for v in client.list_voices() if v.kind == "builtin")


@pytest.fixture
def shared(client: sg.Client) -> Iterator[sg.Client]:
    """Make `client` the shared one for this test, and put back whatever was there."""
    previous = sg.set_client(client)
    yield client
    sg.set_client(previous)


@pytest.fixture(scope="session")
def sample_mp3() -> bytes:
    """12 s of real speech from the engine, as MP3: passes every upload check."""
    from media import speech_file

    return speech_file("mp3", 12.0)


@pytest.fixture(scope="module")
def ready_model(client: sg.Client, sample_mp3: bytes) -> sg.VoiceModel:
    model = client.clone_voice(sample_mp3, "Fixture voice", "made by magics_env", filename="fixture.mp3")
    return client.wait_for_model(model.model_id, 60)


@pytest.fixture(scope="module")
def _ipython() -> Any:
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "speechgen_jupyter")
    return ip


@pytest.fixture
def shell(_ipython: Any, shared: sg.Client) -> Iterator[Any]:
    """The shell, with display() outputs captured in `shell.display_pub.outputs`
    and every SpeechgenMagics setting restored after the test."""
    from IPython.core.displaypub import CapturingDisplayPublisher
    from magics_calls import magics_of

    import copy

    magics = magics_of(_ipython)
    saved = {name: getattr(magics, name) for name in magics.trait_names() if magics.trait_metadata(name, "config")}
    # `%config` also writes the shell's config, which a `%reload_ext` reads back into a new SpeechgenMagics.
    saved_config = copy.deepcopy(_ipython.config.SpeechgenMagics)
    publisher, _ipython.display_pub = _ipython.display_pub, CapturingDisplayPublisher()
    active = list(_ipython.display_formatter.active_types)
    try:
        yield _ipython
    finally:
        _ipython.display_pub = publisher
        _ipython.display_formatter.active_types = active
        _ipython.config.SpeechgenMagics = saved_config
        magics = magics_of(_ipython)  # (a new one, if the test reloaded the extension)
        for name, value in saved.items():
            setattr(magics, name, value)
        magics.session.voice_note_shown = False
        magics.session.extras_told = ()

