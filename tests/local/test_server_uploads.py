"""Every way an upload can be refused, on real files, and that a refusal leaves nothing behind."""

from __future__ import annotations

import os
import socket
import time
import unicodedata
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from media import make_audio, speech_file

from speechgen_jupyter.local import LocalServer

from .helpers import assert_error, clone, files_under

MAX = 10 * 1024 * 1024
BOUNDARY = "sgtestboundary0123456789"


def model_ids(api: httpx.Client) -> set[str]:
    return {m["model_id"] for m in api.get("/v1/models?limit=100").json()["models"]}


@pytest.fixture
def nothing_left_behind(server: LocalServer, api: httpx.Client) -> Iterator[None]:
    """After the test: no temp file, no new model row, no sample without a row."""
    before = model_ids(api)
    yield
    assert model_ids(api) == before, "a refused upload created a model"
    assert files_under(server.data_dir, "tmp") == []
    assert set(files_under(server.data_dir, "uploads")) == {f"{m}.audio" for m in before}


def part(name: str, value: bytes, filename: str | None = None, content_type: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + value + b"\r\n"


def post_raw(api: httpx.Client, body: bytes, content_type: str | None = None) -> httpx.Response:
    return api.post(
        "/v1/voice-clone",
        content=body,
        headers={"Content-Type": content_type or f"multipart/form-data; boundary={BOUNDARY}"},
    )


def connect(server: LocalServer) -> socket.socket:
    parts = urlsplit(server.base_url)
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def read_status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


# -- the 10 MB limit ---------------------------------------------------------------------


def test_declared_oversize_is_refused_before_the_body_is_sent(server: LocalServer, nothing_left_behind: None) -> None:
    with connect(server) as sock:
        head = (
            "POST /v1/voice-clone HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {server.api_key}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {11 * 1024 * 1024}\r\n\r\n"
        )
        sock.sendall(head.encode())
        # Not one byte of the 11 MB body is sent, and the answer comes anyway.
        assert read_status(sock) == 413


def test_streamed_oversize_is_refused_as_soon_as_it_passes_10_mb(server: LocalServer, nothing_left_behind: None) -> None:
    """Chunked upload with no Content-Length: the 413 arrives while 5 MB are still unsent."""
    with connect(server) as sock:
        head = (
            "POST /v1/voice-clone HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {server.api_key}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        sock.sendall(head.encode())

        def chunk(data: bytes) -> None:
            sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")

        chunk(part("name", b"big")[:-2] + b"\r\n")
        chunk(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="audio"; filename="big.mp3"\r\n\r\n'.encode())
        block = os.urandom(256 * 1024)
        sent = 0
        while sent <= MAX + len(block):  # 10 MB and a bit: past the limit, well short of 15 MB
            chunk(block)
            sent += len(block)
        assert read_status(sock) == 413
        assert sent < 15 * 1024 * 1024


def test_exactly_10_mb_passes_the_size_gate_and_one_byte_more_does_not(api: httpx.Client, nothing_left_behind: None) -> None:
    at_limit = clone(api, b"\x00" * MAX, filename="limit.wav")
    assert at_limit.status_code != 413  # refused for what it is (not audio), not for its size
    assert_error(at_limit, 415, "unsupported_audio_format")
    over = clone(api, b"\x00" * (MAX + 1), filename="over.wav")
    err = assert_error(over, 413, "file_too_large")
    assert "10 MB" in err["message"]


def wait_for(condition, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    """Poll a condition the server cannot signal to a client that has gone (a file appearing or going)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_client_that_disconnects_mid_upload_leaves_no_temp_file(server: LocalServer, nothing_left_behind: None) -> None:
    with connect(server) as sock:
        body = part("name", b"gone") + f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="audio"; filename="a.mp3"\r\n\r\n'.encode()
        head = (
            "POST /v1/voice-clone HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {server.api_key}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(body) + 4 * 1024 * 1024}\r\n\r\n"
        )
        sock.sendall(head.encode() + body + os.urandom(1024 * 1024))
        # The server is now waiting for the other 3 MB, with the upload in a temp file.
        assert wait_for(lambda: files_under(server.data_dir, "tmp") != [])
    assert wait_for(lambda: files_under(server.data_dir, "tmp") == []), "the temp file outlived the connection"


# -- content checks, on real files -------------------------------------------------------


def noisy_speech(snr_db: float = 0.0) -> bytes:
    """Engine speech under white noise at `snr_db`, as WAV."""
    import numpy as np
    from media import encode, speech

    x, rate = speech(14.0, "en-us-male-2", sample_rate=16_000)
    noise = np.random.default_rng(0).standard_normal(len(x)).astype(np.float32)
    noise *= np.sqrt(np.mean(x**2) / 10 ** (snr_db / 10) / np.mean(noise**2))
    return encode(np.clip(x + noise, -1, 1), "wav", rate)


def two_speakers() -> bytes:
    """A deep male and a bright female voice taking 2 s turns, as WAV."""
    import numpy as np
    from media import encode, speech

    male, rate = speech(14.0, "en-us-male-1", sample_rate=16_000)
    female, _ = speech(14.0, "en-us-female-2", sample_rate=16_000, start=1)
    turn = 2 * rate
    return encode(np.concatenate([(male, female)[(i // turn) % 2][i : i + turn] for i in range(0, len(male), turn)]), "wav", rate)



@pytest.mark.parametrize(
    ("make", "filename", "status", "code"),
    [
        (lambda: b"This is a text file, not audio.\n" * 100, "voice.mp3", 415, "unsupported_audio_format"),
        (lambda: b"%PDF-1.4\n" + os.urandom(4000), "voice.wav", 415, "unsupported_audio_format"),
        (lambda: b"", "empty.mp3", 400, "empty_file"),
        (lambda: speech_file("mp3", 5.0), "short.mp3", 422, "audio_too_short"),
        (lambda: make_audio("wav", 12.0, "silence"), "silence.wav", 422, "no_speech"),
        (lambda: make_audio("flac", 12.0, "tone"), "tone.flac", 422, "no_speech"),
        (lambda: make_audio("ogg", 12.0, "noise"), "noise.ogg", 422, "no_speech"),
        (lambda: speech_file("wav", 12.0)[:40], "cut.wav", 422, "unreadable_audio"),
        (lambda: make_audio("wav", 301.0, "silence", sample_rate=8000), "long.wav", 422, "audio_too_long"),
        (noisy_speech, "noisy.wav", 422, "too_noisy"),
        (two_speakers, "dialogue.wav", 422, "multiple_speakers"),
    ],
    ids=["text-named-mp3", "pdf-named-wav", "empty", "too-short", "silence", "tone", "noise", "truncated-header", "too-long", "noisy", "two-speakers"],
)
def test_each_sample_refusal(api: httpx.Client, nothing_left_behind: None, make, filename: str, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    err = assert_error(clone(api, make(), filename=filename), status, code)
    assert len(err["message"]) > 20  # says what to do, not just "bad"


def test_enhance_quality_cleans_a_noisy_sample_into_a_usable_voice(api: httpx.Client) -> None:
    """Refused as too noisy as it is; with enhance_quality=true it is judged and cloned cleaned."""
    sample = noisy_speech(0.0)
    assert_error(clone(api, sample, "Noisy", filename="noisy.wav"), 422, "too_noisy")
    created = clone(api, sample, "Noisy, enhanced", filename="noisy.wav", enhance_quality="true")
    assert created.status_code == 201, created.text
    model = api.get(f"/v1/models/{created.json()['model_id']}").json()
    assert model["status"] == "ready", model
    r = api.post("/v1/text-to-speech", json={"text": "Cleaned up.", "voice": model["voice_id"]})
    assert r.status_code == 200


# -- the form itself ------------------------------------------------------------------------


def test_form_fields_are_validated(api: httpx.Client, speech_mp3: bytes, nothing_left_behind: None) -> None:
    cases = [
        ({"name": ""}, "missing_name"),
        ({"name": "   "}, "missing_name"),
        ({"name": "x" * 201}, "name_too_long"),
        ({"name": "line\nbreak"}, "invalid_name"),
        ({"name": "nul\x00byte"}, "invalid_name"),
        ({"name": "ok", "description": "d" * 2001}, "description_too_long"),
        ({"name": "ok", "description": "bell\x07"}, "invalid_description"),
        ({"name": "ok", "enhance_quality": "yes"}, "invalid_enhance_quality"),
        ({"name": "ok", "enhance_quality": ""}, "invalid_enhance_quality"),
        ({"name": "ok", "enhance_quality": "1"}, "invalid_enhance_quality"),
    ]
    for fields, code in cases:
        err = assert_error(api.post("/v1/voice-clone", files={"audio": ("a.mp3", speech_mp3)}, data=fields), 400, code)
        if code == "name_too_long":
            assert "200" in err["message"]
        if code == "description_too_long":
            assert "2000" in err["message"]
    assert_error(api.post("/v1/voice-clone", data={"name": "no audio"}, files={"other": ("x", b"1")}), 400, "missing_audio")
    assert_error(api.post("/v1/voice-clone", files={"audio": ("a.mp3", speech_mp3)}), 400, "missing_name")


def test_huge_text_fields_are_cut_off_while_streaming(api: httpx.Client, nothing_left_behind: None) -> None:
    body = part("name", b"n" * (5 * 1024 * 1024)) + f"--{BOUNDARY}--\r\n".encode()
    assert_error(post_raw(api, body), 400, "field_too_long")


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b'{"name": "json"}', "application/json", "expected_multipart"),
        (b"name=form", "application/x-www-form-urlencoded", "expected_multipart"),
        (b"anything", "multipart/form-data", "malformed_multipart"),
        (b"garbage without any boundary at all", None, "malformed_multipart"),
        (part("name", b"x")[:30], None, "malformed_multipart"),
        (part("name", b"truncated") + b"--" + BOUNDARY.encode(), None, "malformed_multipart"),
        (b"--" + BOUNDARY.encode() + b"\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n--" + BOUNDARY.encode() + b"--\r\n", None, "malformed_multipart"),
        (part("audio", b"a", "a.mp3") + part("audio", b"b", "b.mp3") + f"--{BOUNDARY}--\r\n".encode(), None, "duplicate_field"),
        (part("name", b"a") + part("name", b"b") + f"--{BOUNDARY}--\r\n".encode(), None, "duplicate_field"),
        (b"".join(part(f"f{i}", b"v") for i in range(40)) + f"--{BOUNDARY}--\r\n".encode(), None, "too_many_parts"),
        (b"", None, "malformed_multipart"),
    ],
    ids=["json", "urlencoded", "no-boundary", "garbage", "cut-in-headers", "no-closing", "no-disposition", "two-audio", "two-names", "many-parts", "empty"],
)
def test_malformed_multipart_is_a_400(api: httpx.Client, nothing_left_behind: None, body: bytes, content_type: str | None, code: str) -> None:
    assert_error(post_raw(api, body, content_type), 400, code)


def test_invalid_utf8_in_a_name_is_a_400(api: httpx.Client, speech_mp3: bytes, nothing_left_behind: None) -> None:
    body = part("name", b"caf\xe9 latin-1") + part("audio", speech_mp3, "a.mp3") + f"--{BOUNDARY}--\r\n".encode()
    assert_error(post_raw(api, body), 400, "invalid_encoding")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.dictionaries(
        st.sampled_from(["name", "description", "enhance_quality", "audio", "x"]),
        st.binary(max_size=300),
        max_size=5,
    ),
    filename=st.one_of(st.none(), st.text(max_size=30)),
)
def test_arbitrary_forms_never_crash_the_server(api: httpx.Client, fields: dict[str, bytes], filename: str | None) -> None:
    body = b""
    for name, value in fields.items():
        fname = filename.replace('"', "").replace("\r", "").replace("\n", "") if filename is not None and name == "audio" else None
        body += part(name, value, fname)
    body += f"--{BOUNDARY}--\r\n".encode()
    r = post_raw(api, body)
    assert r.status_code in (400, 415, 422), r.text  # never 5xx; 300 bytes can never be a valid sample
    assert_error(r, r.status_code)


# -- accepted names ---------------------------------------------------------------------------


def test_odd_unicode_names_are_kept_exactly(api: httpx.Client, speech_mp3: bytes) -> None:
    for name in ["Zoë's voice 🎙️", "صوت المعلق", "声音 クローン", "e\u0301 combining", "👩‍👩‍👧 family", "x" * 200]:
        r = clone(api, speech_mp3, name)
        assert r.status_code == 201, r.text
        assert r.json()["name"] == unicodedata.normalize("NFC", name)
        assert api.get(f"/v1/models/{r.json()['model_id']}").json()["name"] == unicodedata.normalize("NFC", name)
