"""Auth, the error body, routing, and every bad input that needs no upload."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from speechgen_jupyter.local import LocalServer

from .helpers import assert_error

ENDPOINTS = [
    ("GET", "/v1/models"),
    ("GET", "/v1/models/vm_0123456789abcdef0123"),
    ("DELETE", "/v1/models/vm_0123456789abcdef0123"),
    ("POST", "/v1/voice-clone"),
    ("POST", "/v1/text-to-speech"),
    ("GET", "/v1/voices"),
    ("GET", "/_admin/state"),
    ("PUT", "/_admin/transition"),
    ("PUT", "/_admin/faults"),
    ("POST", "/_admin/reset"),
    ("GET", "/no/such/route"),
]


def raw_request(server: LocalServer, request: bytes) -> tuple[int, bytes]:
    """Send bytes exactly as written (httpx would normalise '..' in paths); return (status, body)."""
    parts = urlsplit(server.base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_requires_the_key(server: LocalServer, method: str, path: str) -> None:
    url = server.base_url + path
    missing = httpx.request(method, url)
    assert_error(missing, 401, "missing_api_key")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    for header in ("Bearer wrong-key", f"Basic {server.api_key}", f"Bearer {server.api_key}x", "Bearer"):
        assert_error(httpx.request(method, url, headers={"Authorization": header}), 401, "invalid_api_key")
    right = httpx.request(method, url, headers={"Authorization": f"Bearer {server.api_key}"}, json={})
    assert right.status_code != 401
    assert right.headers["x-request-id"].startswith("req_")


def test_request_ids_are_unique(api: httpx.Client) -> None:
    ids = {api.get("/v1/voices").headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20


def test_unknown_route_and_wrong_method_use_the_error_body(api: httpx.Client) -> None:
    assert_error(api.get("/v2/models"), 404, "not_found")
    err = assert_error(api.put("/v1/models/vm_abc"), 405, "method_not_allowed")
    assert "PUT" in err["message"]
    allowed = api.put("/v1/models/vm_abc").headers["allow"]
    assert "GET" in allowed and "DELETE" in allowed
    assert_error(api.get("/v1/text-to-speech"), 405, "method_not_allowed")


def test_unknown_models_are_404(api: httpx.Client) -> None:
    assert_error(api.get("/v1/models/vm_doesnotexist"), 404, "model_not_found")
    assert_error(api.delete("/v1/models/vm_doesnotexist"), 404, "model_not_found")
    for odd in ["not-a-model", "VM_ABC", "vm_" + "a" * 100, "vm_%C3%A9", "%00", "vm_abc%20"]:
        assert_error(api.get(f"/v1/models/{odd}"), 404)


@pytest.mark.parametrize(
    "target",
    [
        b"/v1/models/../../etc/passwd",
        b"/v1/models/..%2F..%2Fetc%2Fpasswd",
        b"/v1/models/%2e%2e%2f%2e%2e%2fspeechgen-local.sqlite3",
        b"/cdn/samples/../speechgen-local.sqlite3",
        b"/cdn/samples/..%2Fspeechgen-local.sqlite3",
        b"/cdn/samples/..%2F..%2F..%2Fetc%2Fpasswd%00.mp3",
        b"/cdn/samples/....................................mp3",
        b"/cdn/samples/%2e%2e%2fuploads%2f.mp3",
    ],
)
def test_path_like_ids_never_reach_the_filesystem(server: LocalServer, target: bytes) -> None:
    auth = f"Authorization: Bearer {server.api_key}\r\n".encode()
    status, body = raw_request(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + auth + b"Connection: close\r\n\r\n")
    assert status in (400, 404)
    assert b"root:" not in body and b"SQLite" not in body
    assert body.startswith(b'{"error"')


def test_sample_urls_are_public_but_unknown_tokens_are_404(server: LocalServer) -> None:
    r = httpx.get(server.base_url + "/cdn/samples/" + "A" * 32 + ".mp3")
    assert_error(r, 404, "sample_not_found")


# -- voices and text-to-speech ------------------------------------------------------


def test_voices_lists_builtins_with_the_spec_shape(api: httpx.Client) -> None:
    voices = api.get("/v1/voices").json()["voices"]
    assert len(voices) >= 2
    for v in voices:
        assert set(v) == {"voice_id", "name", "kind", "language", "engine", "neural", "gender", "accent"}
        assert v["kind"] == "builtin" and v["language"] == "en"
        assert v["engine"] in ("hibari", "piper", "espeak") and v["neural"] is (v["engine"] != "espeak")
        assert v["gender"] in ("female", "male") and v["accent"] in ("en-US", "en-GB")
        assert v["name"].endswith("(neural)" if v["neural"] else "(espeak)")
    assert len({v["voice_id"] for v in voices}) == len(voices)
    # The natural voices first, a female and a male one; the espeak ones stay, by their old ids.
    assert [(v["voice_id"], v["gender"]) for v in voices[:2]] == [("en-us-heart", "female"), ("en-us-joe", "male")]
    assert {"en-us-male-1", "en-us-female-1", "en-gb-male-1"} <= {v["voice_id"] for v in voices}


def test_long_mp3_from_a_neural_voice_is_streamed_sentence_by_sentence(api: httpx.Client) -> None:
    from speechgen_jupyter.local.engine import decode

    text = "This is the first sentence. Here comes a second one. And a third, to end with."
    with api.stream("POST", "/v1/text-to-speech", json={"text": text, "voice": "en-us-heart"}) as r:
        assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg"
        assert "content-length" not in r.headers  # chunked: sent as it is made
        pieces = [chunk for chunk in r.iter_raw() if chunk]
    body = b"".join(pieces)
    assert len(pieces) >= 2
    audio = decode(body)
    assert audio.container == "mp3" and 3.0 < audio.duration < 9.0


@pytest.mark.parametrize(("fmt", "media_type"), [("mp3", "audio/mpeg"), ("wav", "audio/wav"), ("ogg", "audio/ogg"), ("flac", "audio/flac")])
def test_text_to_speech_returns_real_audio_in_each_format(api: httpx.Client, fmt: str, media_type: str) -> None:
    from speechgen_jupyter.local.engine import decode

    voice = api.get("/v1/voices").json()["voices"][0]["voice_id"]
    r = api.post("/v1/text-to-speech", json={"text": "Hello from the local server.", "voice": voice, "format": fmt})
    assert r.status_code == 200
    assert r.headers["content-type"] == media_type
    audio = decode(r.content)
    assert audio.container == fmt
    assert 0.8 < audio.duration < 6


def test_text_to_speech_defaults_to_mp3(api: httpx.Client) -> None:
    r = api.post("/v1/text-to-speech", json={"text": "Default format.", "voice": "en-us-female-1"})
    assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg"


def test_text_at_the_limit_is_spoken(api: httpx.Client) -> None:
    text = ("This sentence is repeated to reach the limit. " * 200)[:5000]
    r = api.post("/v1/text-to-speech", json={"text": text, "voice": "en-us-male-1", "format": "wav"})
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"voice": "en-us-male-1"}, "missing_text"),
        ({"text": 42, "voice": "en-us-male-1"}, "missing_text"),
        ({"text": "", "voice": "en-us-male-1"}, "empty_text"),
        ({"text": " \n\t ", "voice": "en-us-male-1"}, "empty_text"),
        ({"text": "x" * 5001, "voice": "en-us-male-1"}, "text_too_long"),
        ({"text": "hi"}, "missing_voice"),
        ({"text": "hi", "voice": ["en-us-male-1"]}, "missing_voice"),
        ({"text": "hi", "voice": "en-us-male-1", "format": "aac"}, "unsupported_output_format"),
        ({"text": "hi", "voice": "en-us-male-1", "format": None}, "unsupported_output_format"),
        ({"text": "hi", "voice": "en-us-male-1", "format": "MP3 "}, "unsupported_output_format"),
    ],
)
def test_text_to_speech_refuses_bad_fields(api: httpx.Client, body: dict, code: str) -> None:
    err = assert_error(api.post("/v1/text-to-speech", json=body), 400, code)
    if code == "text_too_long":
        assert "5000" in err["message"]


@pytest.mark.parametrize("voice", ["nobody", "custom-0000000000000000", "../en-us-male-1", "en-us-male-1 "])
def test_unknown_voices_are_404(api: httpx.Client, voice: str) -> None:
    assert_error(api.post("/v1/text-to-speech", json={"text": "hi", "voice": voice}), 404, "voice_not_found")


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "invalid_json"),
        (b"{not json", "invalid_json"),
        (b"\xff\xfe\x00garbage", "invalid_json"),
        (b'["text", "voice"]', "invalid_body"),
        (b'"just a string"', "invalid_body"),
        (b"[" * 100_000, "body_too_large"),
        (b"[" * 50_000 + b"]" * 50_000, "body_too_large"),
        (b"[" * 20_000 + b"]" * 20_000, "invalid_json"),  # nested past the parser's depth
    ],
    ids=["empty", "broken", "binary", "array", "string", "huge", "huge-nested", "deep-nested"],
)
def test_text_to_speech_refuses_bad_json(api: httpx.Client, content: bytes, code: str) -> None:
    r = api.post("/v1/text-to-speech", content=content, headers={"Content-Type": "application/json"})
    assert_error(r, 400, code)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["text", "voice", "format", "extra"]),
        st.one_of(st.text(max_size=40), st.integers(), st.none(), st.lists(st.integers(), max_size=2), st.sampled_from(["mp3", "wav", "en-us-male-1"])),
    )
)
def test_text_to_speech_never_crashes_on_arbitrary_json(api: httpx.Client, body: dict) -> None:
    r = api.post("/v1/text-to-speech", json=body)
    if r.status_code == 200:
        assert r.headers["content-type"].startswith("audio/")
    else:
        assert r.status_code in (400, 404)
        assert_error(r, r.status_code)


# -- listing --------------------------------------------------------------------------


def test_listing_an_empty_server(serve) -> None:  # type: ignore[no-untyped-def]
    fresh = serve()
    r = httpx.get(fresh.base_url + "/v1/models", headers={"Authorization": f"Bearer {fresh.api_key}"})
    assert r.status_code == 200 and r.json() == {"models": [], "next_cursor": None}


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "limit=-1", "limit=1.5", "limit="])
def test_listing_refuses_bad_limits(api: httpx.Client, query: str) -> None:
    assert_error(api.get(f"/v1/models?{query}"), 400, "invalid_limit")


@pytest.mark.parametrize("cursor", ["garbage", "YmVmb3JlOng", "%00", "before:5", "YWZ0ZXI6NQ"])
def test_listing_refuses_foreign_cursors(api: httpx.Client, cursor: str) -> None:
    assert_error(api.get(f"/v1/models?cursor={cursor}"), 400, "invalid_cursor")
