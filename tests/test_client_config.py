"""Configuration is read when the client is built, and the key never leaks."""

from __future__ import annotations

import logging
import pickle
import traceback

import httpx
import pytest

import speechgen_jupyter as sg
from speechgen_jupyter import _shared
from fakes import KEY, Recorder


def test_key_and_base_url_come_from_the_environment_when_the_client_is_built(monkeypatch) -> None:
    monkeypatch.setenv("SPEECHGEN_API_KEY", "env-key-1")
    monkeypatch.setenv("SPEECHGEN_BASE_URL", "http://127.0.0.1:9/prefix")
    seen = []
    client = sg.Client(transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(204)))
    monkeypatch.setenv("SPEECHGEN_API_KEY", "changed-later")
    client.delete_model("vm_1")
    assert str(seen[0].url) == "http://127.0.0.1:9/prefix/v1/models/vm_1"
    assert seen[0].headers["authorization"] == "Bearer env-key-1"


def test_arguments_win_over_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("SPEECHGEN_API_KEY", "env-key")
    monkeypatch.setenv("SPEECHGEN_BASE_URL", "http://env.example")
    client = sg.Client(api_key="arg-key", base_url="https://arg.example/")
    assert str(client.base_url) == "https://arg.example/"
    assert client.api_key.reveal() == "arg-key"


def test_default_base_url_is_the_pages() -> None:
    assert str(sg.Client(api_key="k").base_url) == "https://api.speechgen.com/"


def test_a_missing_key_says_how_to_set_it() -> None:
    with pytest.raises(sg.ConfigurationError) as caught:
        sg.Client()
    message = str(caught.value)
    assert "SPEECHGEN_API_KEY" in message and "%speechgen connect" in message


@pytest.mark.parametrize("bad", ["ftp://x", "not a url", "http://", "api.speechgen.com"])
def test_a_bad_base_url_is_a_clear_error(bad) -> None:
    with pytest.raises(sg.ConfigurationError, match="base URL"):
        sg.Client(api_key="k", base_url=bad)


def test_a_key_with_whitespace_inside_is_refused_without_echoing_it() -> None:
    with pytest.raises(sg.ConfigurationError) as caught:
        sg.Client(api_key="abc def-secret")
    assert "def-secret" not in str(caught.value)


def test_the_key_is_not_in_repr_str_or_pickles() -> None:
    client = sg.Client(api_key=KEY)
    for text in (repr(client), str(client), repr(client.api_key), str(client.api_key), repr(client._auth)):
        assert KEY not in text
    assert "redacted" in repr(client)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(client.api_key)


def test_the_key_is_not_in_logs_or_errors_or_tracebacks(make_client, caplog) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        # A careless server that echoes the Authorization header back.
        return httpx.Response(
            401, json={"error": {"code": "invalid_api_key", "message": f"Bad key: {request.headers['authorization']}"}}
        )

    caplog.set_level(logging.DEBUG)
    with pytest.raises(sg.AuthenticationError) as caught:
        make_client(handler).get_model("vm_1")
    err = caught.value
    rendered = "".join(traceback.format_exception(err))
    for text in (str(err), repr(err), err.message, rendered, caplog.text):
        assert KEY not in text
    assert "<redacted>" in err.message
    assert "SPEECHGEN_API_KEY" in err.message


def test_transport_errors_do_not_carry_the_key(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(sg.ConnectionError) as caught:
        make_client(handler, max_retries=0).get_model("vm_1")
    assert KEY not in "".join(traceback.format_exception(caught.value))
    assert "api.speechgen.test" in str(caught.value)


def test_shared_client_set_and_get(monkeypatch) -> None:
    monkeypatch.setattr(_shared, "_client", None)
    mine = sg.Client(api_key="k", base_url="http://127.0.0.1:1")
    assert sg.set_client(mine) is None
    assert sg.get_client() is mine
    assert sg.set_client(None) is mine
    with pytest.raises(TypeError):
        sg.set_client("not a client")  # type: ignore[arg-type]


def test_shared_client_uses_the_environment_when_a_key_is_set(monkeypatch) -> None:
    monkeypatch.setattr(_shared, "_client", None)
    monkeypatch.setenv("SPEECHGEN_API_KEY", "env-key")
    client = sg.get_client()
    assert str(client.base_url) == "https://api.speechgen.com/"
    assert sg.get_client() is client


def test_base_url_without_key_in_the_environment_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setattr(_shared, "_client", None)
    monkeypatch.setenv("SPEECHGEN_BASE_URL", "http://127.0.0.1:9")
    with pytest.raises(sg.ConfigurationError, match="SPEECHGEN_API_KEY"):
        sg.get_client()


def test_connect_makes_the_shared_client(monkeypatch) -> None:
    monkeypatch.setattr(_shared, "_client", None)
    client = sg.connect(api_key="k2", base_url="http://127.0.0.1:2")
    assert sg.get_client() is client


def test_async_twin_has_the_same_settings() -> None:
    client = sg.Client(api_key="k", base_url="http://127.0.0.1:3", max_retries=7, deadline=12)
    twin = client.to_async()
    assert isinstance(twin, sg.AsyncClient)
    assert (str(twin.base_url), twin.max_retries, twin.deadline) == ("http://127.0.0.1:3/", 7, 12)
    assert twin.api_key == client.api_key


def test_a_server_that_is_not_speechgen_is_reported_not_crashed(make_client) -> None:
    server = Recorder(httpx.Response(200, text="<html>captive portal</html>"))
    with pytest.raises(sg.APIError, match="not JSON"):
        make_client(server).get_model("vm_1")
