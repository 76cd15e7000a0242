"""`%speechgen connect`: the key comes from the environment or a hidden prompt, never from a cell,
is checked before switching, and is never shown."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from magics_calls import ok, run

import speechgen_jupyter as sg
from speechgen_jupyter import _shared

pytest_plugins = ["magics_env"]


def no_prompt(prompt: str = "") -> str:
    raise AssertionError("must not prompt")


def test_connect_reads_the_key_from_the_environment(shell, server, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SPEECHGEN_API_KEY", server.api_key)
    monkeypatch.setattr("getpass.getpass", no_prompt)
    sg.set_client(None)
    ok(shell, f"%speechgen connect --base-url {server.base_url}")
    client = sg.get_client()
    assert str(client.base_url).rstrip("/") == server.base_url
    captured = capsys.readouterr()
    assert "SPEECHGEN_API_KEY" in captured.out and "key accepted" in captured.out
    assert server.api_key not in captured.out + captured.err


def test_connect_asks_with_getpass_when_the_environment_has_no_key(shell, server, voice_id, monkeypatch, capsys) -> None:
    prompts: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or f"  {server.api_key}\n")
    sg.set_client(None)
    ok(shell, f"%speechgen connect   --base-url   '{server.base_url}'")
    assert prompts and "hidden" in prompts[0]
    assert str(sg.get_client().base_url).rstrip("/") == server.base_url
    assert ok(shell, f"%%speechgen -v {voice_id}\nThe new client really works.").duration > 0.5
    captured = capsys.readouterr()
    assert "the prompt" in captured.out and server.api_key not in captured.out + captured.err


def test_a_wrong_key_is_a_short_error_and_keeps_the_previous_connection(shell, server, monkeypatch, capsys) -> None:
    before = sg.get_client()
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "sk_wrong_key_123")
    result = run(shell, f"%speechgen connect --base-url {server.base_url}")
    assert isinstance(result.error_in_exec, UsageError)
    assert "AuthenticationError" in str(result.error_in_exec)
    assert sg.get_client() is before
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err and "sk_wrong_key_123" not in captured.out + captured.err


@pytest.mark.parametrize(
    "line",
    [
        "connect sk_live_typed_into_a_cell",
        "connect --api-key sk_live_typed_into_a_cell",
        "connect --key=sk_live_typed_into_a_cell",
    ],
)
def test_a_key_typed_into_the_cell_is_refused_without_echoing_it(shell, monkeypatch, capsys, line: str) -> None:
    before = sg.get_client()
    monkeypatch.setattr("getpass.getpass", no_prompt)
    result = run(shell, f"%speechgen {line}")
    assert isinstance(result.error_in_exec, UsageError)
    captured = capsys.readouterr()
    assert "never takes the API key" in captured.err
    assert "sk_live_typed_into_a_cell" not in captured.out + captured.err
    assert sg.get_client() is before


def test_no_key_and_no_way_to_ask_is_a_short_error(shell, server, monkeypatch) -> None:
    def eof(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", eof)
    result = run(shell, f"%speechgen connect --base-url {server.base_url}")
    assert isinstance(result.error_in_exec, UsageError) and "SPEECHGEN_API_KEY" in str(result.error_in_exec)


def test_connect_local_starts_and_uses_the_bundled_server(shell, monkeypatch, capsys) -> None:
    monkeypatch.setattr(_shared, "_local", _shared._local)  # put back whatever was there afterwards
    monkeypatch.setattr(_shared, "_client", _shared._client)
    ok(shell, "%speechgen connect --local")
    local = sg.local_server()
    try:
        assert local is not None and local.running
        assert str(sg.get_client().base_url).rstrip("/") == local.base_url
        assert f"local Speechgen server at {local.base_url}" in capsys.readouterr().out
        assert ok(shell, "%speechgen voices").shape[0] >= 1
    finally:
        local.stop()


def test_local_and_base_url_exclude_each_other(shell) -> None:
    result = run(shell, "%speechgen connect --local --base-url http://127.0.0.1:1")
    assert isinstance(result.error_in_exec, UsageError) and "not allowed with" in str(result.error_in_exec)
    result = run(shell, "%speechgen connect --bogus sk_secret_after_an_option")
    assert "sk_secret_after_an_option" not in str(result.error_in_exec)
