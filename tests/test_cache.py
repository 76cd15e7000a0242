"""The speech cache, over real HTTP to the local server, counting the requests the server receives.

A hit makes no request; anything that changes the audio misses; the key is
nowhere on disk; a torn file is a miss, never data; the size bound holds;
two processes writing one key end with one good entry; and the cache never
costs the user speech when the disk fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import speechgen_jupyter as sg
from speechgen_jupyter.cache import SpeechCache, default_cache, speech_key
from speechgen_jupyter.local import LocalServer, start

TTS = "/v1/text-to-speech"
VOICE = "en-us-male-1"
OTHER_VOICE = "en-us-female-1"
# About 10 s of speech: large enough that its cache entry is a file of its own (not inline in the index).
TEN_SECONDS = (
    "The cache keeps what the service already said, so that running a cell again costs nothing at all, "
    "neither a request nor a character billed."
)


@pytest.fixture(scope="module")
def server(page_only: bool) -> Iterator[LocalServer]:
    """The local server, full and page-only (the stand-in for the real service): the cache is the client's."""
    with start(admin=True, transition="immediate", page_only=page_only) as srv:
        yield srv


@pytest.fixture
def admin(server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=30) as http:
        http.post("/_admin/reset").raise_for_status()
        yield http


def tts_requests(admin: httpx.Client) -> int:
    """Text-to-speech requests the server has received (since the test's reset)."""
    return int(admin.get("/_admin/requests").json()["counts"].get(f"POST {TTS}", 0))


@pytest.fixture
def client(server: LocalServer) -> Iterator[sg.Client]:
    with sg.Client(api_key=server.api_key, base_url=server.base_url) as c:
        yield c


def cache_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


# --------------------------------------------------------------------------- hits and misses


def test_a_hit_makes_no_request_and_gives_the_same_speech(client: sg.Client, admin: httpx.Client) -> None:
    first = client.text_to_speech("Hello from the cache test.", VOICE)
    assert tts_requests(admin) == 1
    again = client.text_to_speech("Hello from the cache test.", VOICE)
    assert tts_requests(admin) == 1  # answered from disk
    assert again == first and again.text == "Hello from the cache test." and again.voice == VOICE
    assert again.duration == pytest.approx(first.duration)
    stats = default_cache().stats()
    assert stats.entries == 1 and stats.hits == 1 and stats.chars_saved == len("Hello from the cache test.")


@pytest.mark.parametrize(
    "change",
    [
        {"text": "Hello from the cache test!"},
        {"voice": OTHER_VOICE},
        {"format": "wav"},
    ],
    ids=["text", "voice", "format"],
)
def test_a_changed_text_voice_or_format_misses(client: sg.Client, admin: httpx.Client, change: dict) -> None:
    request = {"text": "Hello from the cache test.", "voice": VOICE, "format": "mp3"}
    client.text_to_speech(**request)
    changed = client.text_to_speech(**{**request, **change})
    assert tts_requests(admin) == 2
    assert changed.format == (change.get("format") or "mp3") and changed.voice == change.get("voice", VOICE)


def test_another_account_or_service_never_shares_speech(server: LocalServer, client: sg.Client, admin: httpx.Client) -> None:
    """The scope is the base URL and the account's fingerprint: a second key on the same server misses."""
    client.text_to_speech("Shared nothing.", VOICE)
    other_scope = sg.Client(api_key="another-account-key", base_url=server.base_url).cache_scope
    assert other_scope != client.cache_scope and "another-account-key" not in other_scope
    key_a = speech_key(client.cache_scope, "POST", "v1/text-to-speech", {"text": "x", "voice": VOICE, "format": "mp3"})
    key_b = speech_key(other_scope, "POST", "v1/text-to-speech", {"text": "x", "voice": VOICE, "format": "mp3"})
    assert key_a.digest != key_b.digest


def test_the_async_client_uses_the_same_cache(client: sg.Client, admin: httpx.Client, portal) -> None:  # type: ignore[no-untyped-def]
    spoken = client.text_to_speech("Sync first, async second.", VOICE)

    async def again() -> sg.Speech:
        async with client.to_async() as aclient:
            return await aclient.text_to_speech("Sync first, async second.", VOICE)

    assert portal.call(again) == spoken
    assert tts_requests(admin) == 1


def test_cache_off_by_keyword_or_for_the_client(server: LocalServer, client: sg.Client, admin: httpx.Client) -> None:
    client.text_to_speech("Not from the cache.", VOICE)
    client.text_to_speech("Not from the cache.", VOICE, cache=False)
    assert tts_requests(admin) == 2
    with sg.Client(api_key=server.api_key, base_url=server.base_url, cache=False) as uncached:
        uncached.text_to_speech("Not from the cache.", VOICE)
        uncached.text_to_speech("Not from the cache.", VOICE)
    assert tts_requests(admin) == 4
    assert len(default_cache()) == 1  # only the first call stored anything


def test_errors_are_never_cached(client: sg.Client, admin: httpx.Client) -> None:
    for _ in range(2):
        with pytest.raises(sg.NotFoundError):
            client.text_to_speech("Nobody says this.", "no-such-voice")
    assert tts_requests(admin) == 2 and len(default_cache()) == 0


def test_a_failing_disk_costs_no_speech(client: sg.Client, admin: httpx.Client, tmp_path: Path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("SPEECHGEN_CACHE_DIR", str(blocked))
    speech = client.text_to_speech("The disk is broken.", VOICE)
    assert speech.duration and tts_requests(admin) == 1
    assert "speech cache" in caplog.text


# --------------------------------------------------------------------------- what is on disk


def test_the_key_is_nowhere_on_disk(server: LocalServer, client: sg.Client, speech_mp3: bytes, _own_user_dirs) -> None:  # type: ignore[no-untyped-def]
    client.text_to_speech(TEN_SECONDS, VOICE)
    client.text_to_speech("Short.", VOICE, "wav")
    client.text_to_speech("Short.", VOICE)  # a hit
    model = client.wait_for_model(client.clone_voice(speech_mp3, "Cache voice", filename="s.mp3"), 60)
    client.text_to_speech("In the clone's voice.", model.voice_id)
    root = _own_user_dirs["cache"]
    files = cache_files(root)
    assert len(files) >= 3
    key = server.api_key.encode()
    for path in files:
        assert server.api_key not in str(path.relative_to(root))
        assert key not in path.read_bytes(), path


def test_a_torn_file_is_a_miss_never_served(client: sg.Client, admin: httpx.Client, _own_user_dirs) -> None:  # type: ignore[no-untyped-def]
    whole = client.text_to_speech(TEN_SECONDS, VOICE)
    (value_file,) = [p for p in cache_files(_own_user_dirs["cache"] / "speech") if p.suffix == ".val"]
    data = value_file.read_bytes()
    value_file.write_bytes(data[: len(data) // 2])  # what a crash before the disk caught up leaves
    again = client.text_to_speech(TEN_SECONDS, VOICE)
    assert tts_requests(admin) == 2  # the torn entry was not served: asked again
    assert again.duration == pytest.approx(whole.duration, abs=0.05) and len(again.data) > len(data) // 2
    assert client.text_to_speech(TEN_SECONDS, VOICE) == again and tts_requests(admin) == 2  # and stored whole again


_WRITER = textwrap.dedent(
    """
    import sys, time
    from speechgen_jupyter.cache import SpeechCache, speech_key
    from speechgen_jupyter.types import Speech
    directory, fill, rounds, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    key = speech_key("scope", "POST", "v1/text-to-speech", {"text": "one key", "voice": "v", "format": "mp3"})
    cache = SpeechCache(directory)
    payload = Speech(fill.encode() * (3 * 2**20 // len(fill)), "mp3")
    while time.time() < go:
        pass
    for _ in range(rounds):
        cache.put(key, payload)
    print("done", flush=True)
    """
)


def _key():  # type: ignore[no-untyped-def]
    return speech_key("scope", "POST", "v1/text-to-speech", {"text": "one key", "voice": "v", "format": "mp3"})


def test_a_process_killed_mid_write_leaves_a_miss(tmp_path: Path) -> None:
    directory = tmp_path / "speech"
    big = _WRITER.replace("3 * 2**20", "256 * 2**20")  # 256 MB: long enough to kill it halfway
    writer = subprocess.Popen([sys.executable, "-c", big, str(directory), "x", "1", "0"])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            vals = [p for p in directory.rglob("*.val")] if directory.exists() else []
            if vals and vals[0].stat().st_size > 0:
                break
            time.sleep(0.001)
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.wait(30)
    (torn,) = list(directory.rglob("*.val"))
    assert 0 < torn.stat().st_size < 256 * 2**20, "the writer finished before it was killed: nothing was torn"
    cache = SpeechCache(directory)
    assert cache.get(_key()) is None and len(cache) == 0


def test_two_processes_writing_one_key_end_with_one_good_entry(tmp_path: Path) -> None:
    directory = tmp_path / "speech"
    SpeechCache(directory).stats()  # the folder exists before the race, as it would for two kernels
    go = time.time() + 1.5  # both start writing at the same moment
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(directory), fill, "15", str(go)], stdout=subprocess.PIPE, text=True)
        for fill in ("AAAA", "BBBB")
    ]
    for w in writers:
        out, _ = w.communicate(timeout=120)
        assert w.returncode == 0 and "done" in out
    cache = SpeechCache(directory)
    assert len(cache) == 1
    speech = cache.get(_key())
    assert speech is not None and speech.data in (b"AAAA" * (3 * 2**20 // 4), b"BBBB" * (3 * 2**20 // 4))
    assert len(list(directory.rglob("*.val"))) == 1  # every replaced file was removed, none left half-written


def test_eviction_keeps_the_size_bound_least_recently_used_first(tmp_path: Path) -> None:
    from speechgen_jupyter.types import Speech

    bound = 1_000_000
    cache = SpeechCache(tmp_path / "speech", max_bytes=bound)
    keys = [speech_key("scope", "POST", "tts", {"text": f"entry {i}", "voice": "v", "format": "mp3"}) for i in range(30)]
    clip = Speech(b"\xff\xfb" + os.urandom(100_000), "mp3")
    for i, key in enumerate(keys):
        cache.put(key, clip)
        cache.get(keys[0])  # entry 0 is used all the time: it must survive
        assert cache.volume() <= bound, f"over the bound after {i + 1} entries"
    assert cache.get(keys[0]) is not None
    assert cache.get(keys[-1]) is not None
    assert cache.get(keys[1]) is None  # the least recently used went first
    assert 5 <= len(cache) <= 10
    # The bound belongs to the folder: another instance (another kernel) sees it, and can lower it.
    other = SpeechCache(tmp_path / "speech")
    assert other.max_bytes == bound
    other.set_max_bytes(300_000)
    assert other.volume() <= 300_000 and cache.get(keys[0]) is not None


def test_nothing_but_our_own_bytes_is_read(tmp_path: Path) -> None:
    """A row this package did not write (here: a pickled value) is a miss; nothing is ever unpickled."""
    import diskcache

    directory = tmp_path / "speech"
    raw = diskcache.Cache(str(directory))
    raw.set(_key().digest, {"not": "bytes"})  # diskcache pickles this
    raw.close()
    cache = SpeechCache(directory)
    assert cache.get(_key()) is None and len(cache) == 0


# --------------------------------------------------------------------------- deleting a voice model


def test_deleting_a_voice_model_drops_its_voices_speech(client: sg.Client, admin: httpx.Client, speech_mp3: bytes) -> None:
    model = client.wait_for_model(client.clone_voice(speech_mp3, "Short-lived", filename="s.mp3"), 60)
    client.text_to_speech("Spoken by a clone.", model.voice_id)
    client.text_to_speech("Spoken by a built-in voice.", VOICE)
    assert len(default_cache()) == 2
    client.delete_model(model.model_id)  # an id only: the client looks its voice up first
    assert len(default_cache()) == 1
    client.text_to_speech("Spoken by a built-in voice.", VOICE)
    assert tts_requests(admin) == 2  # the built-in voice's speech stayed


def test_deleting_with_no_cache_folder_asks_nothing_more(client: sg.Client, admin: httpx.Client, speech_mp3: bytes) -> None:
    model = client.wait_for_model(client.clone_voice(speech_mp3, "Gone soon", filename="s.mp3"), 60)
    since = admin.get("/_admin/requests").json()["last_seq"]
    assert not default_cache().exists()
    client.delete_model(model.model_id)
    methods = [e["method"] for e in admin.get("/_admin/requests", params={"since": since}).json()["requests"]]
    assert methods == ["DELETE"] and not default_cache().exists()


# --------------------------------------------------------------------------- the bundled local server


def test_the_next_kernels_local_server_finds_the_speech() -> None:
    """`connect_local` keys speech by the engine, not the server's random port and key: a restarted
    kernel (a new local server) asks nothing for speech the last one made."""
    from speechgen_jupyter import _shared

    try:
        first = sg.connect_local(admin=True)
        first.text_to_speech("Said once, in the first kernel.", VOICE)
        second = sg.connect_local(admin=True)  # a new server: another port, another key
        assert second.base_url != first.base_url and second.api_key != first.api_key
        second.text_to_speech("Said once, in the first kernel.", VOICE)
        counts = second._send(_admin_requests())
        assert counts.get(f"POST {TTS}", 0) == 0
    finally:
        if _shared.local_server() is not None:
            _shared.local_server().stop()
        _shared._local = None
        sg.set_client(None)


def _admin_requests():  # type: ignore[no-untyped-def]
    from speechgen_jupyter._base_client import Call, parse_object

    return Call("GET", "_admin/requests", parse=lambda r: dict(parse_object(r, "counts")))
