"""`%speechgen cache`: what the speech cache holds and has saved; `clear`; the size bound."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from magics_calls import ok, run

import speechgen_jupyter as sg
from speechgen_jupyter.cache import default_cache

pytest_plugins = ["magics_env"]


@pytest.fixture
def counting(server) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The shared client, recording the text of every text-to-speech request it sends."""
    sent: list[str] = []

    def record(request: httpx.Request) -> None:
        if request.url.path.endswith("/v1/text-to-speech"):
            sent.append(request.url.path)

    http = httpx.Client(event_hooks={"request": [record]})
    with sg.Client(api_key=server.api_key, base_url=server.base_url, http_client=http) as c:
        previous = sg.set_client(c)
        yield sent
        sg.set_client(previous)
    http.close()


def test_cache_shows_entries_size_hits_and_characters_saved(shell, counting, voice_id, capsys) -> None:
    text = "Said once, heard twice."
    ok(shell, f"%%speechgen --voice {voice_id}\n{text}")
    ok(shell, f"%%speechgen --voice {voice_id}\n{text}")
    assert len(counting) == 1
    capsys.readouterr()
    ok(shell, "%speechgen cache")
    out = capsys.readouterr().out
    assert re.search(r"Speech cache \(on\): 1 entries, [0-9.]+ KiB of 1\.0 GiB; 1 hits, 23 characters not sent again", out), out
    assert str(default_cache().directory) in out


def test_cache_clear_empties_it_and_the_next_cell_asks_again(shell, counting, voice_id, capsys) -> None:
    ok(shell, f"%%speechgen --voice {voice_id}\nClear me.")
    ok(shell, "%speechgen cache clear")
    assert "1 entry removed" in capsys.readouterr().out and len(default_cache()) == 0
    ok(shell, f"%%speechgen --voice {voice_id}\nClear me.")
    assert len(counting) == 2


def test_the_cache_setting_is_reported_and_respected(shell, counting, voice_id, capsys) -> None:
    ok(shell, "%config SpeechgenMagics.cache = False")
    ok(shell, f"%%speechgen --voice {voice_id}\nNot kept.")
    ok(shell, f"%%speechgen --voice {voice_id}\nNot kept.")
    assert len(counting) == 2 and len(default_cache()) == 0
    ok(shell, "%speechgen cache")
    assert "off for %%speechgen" in capsys.readouterr().out


def test_max_size_bounds_the_folder_and_bad_sizes_are_refused(shell, capsys) -> None:
    ok(shell, "%speechgen cache --max-size 2MB")
    assert default_cache().max_bytes == 2_000_000
    assert "of 1.9 MiB" in capsys.readouterr().out
    for bad, why in (("10", "under 1 MB"), ("lots", "takes a size")):
        result = run(shell, f"%speechgen cache --max-size {bad}")
        assert result.error_in_exec is not None and why in str(result.error_in_exec)


def test_help_lists_the_cache_command_and_the_flags(shell, capsys) -> None:
    ok(shell, "%speechgen help")
    out = capsys.readouterr().out
    assert "cache" in out and "--no-cache" in out and "--no-stream" in out
