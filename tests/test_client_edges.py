"""The client against servers that misbehave, over real sockets (tests/hostile.py), sync and async.

What a user is promised, each checked as they would see it:
- no call outlives its deadline, however the server spends it: trickling the
  body or the headers, stalling, or never reading an upload;
- an answer is held within its cap: a declared length over it is refused
  before reading, a stream past it is cut off there, and memory stays near the
  cap (measured with tracemalloc against a server streaming zeros);
- a 200 that is not audio (a login page, a JSON error, nothing at all) is an
  `UnexpectedResponseError` that names what came back, for speech and samples;
- an error that echoes the key keeps it nowhere;
- 507 (and the other 5xx that will fail again) is not retried.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

import speechgen_jupyter as sg
from speechgen_jupyter import _constants as C
from speechgen_jupyter import _deadline

from fakes import KEY
from hostile import HostileServer, answer, never_read, stall_after_head, trickle_body, trickle_head, zeros
from media import make_audio

MiB = 1024 * 1024


@pytest.fixture
def hostile() -> Iterator[list[HostileServer]]:
    servers: list[HostileServer] = []
    yield servers
    for server in servers:
        server.close()


def against(hostile: list[HostileServer], make_client, behaviour, *, read_requests: bool = True, **options):  # type: ignore[no-untyped-def]
    server = HostileServer(behaviour, read_requests=read_requests)
    hostile.append(server)
    return server, make_client(base_url=server.base_url, **options)


# -- the deadline holds over the whole call ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "behaviour"),
    [("body at a byte every 0.2 s", trickle_body()), ("headers at a byte every 0.2 s", trickle_head())],
)
def test_a_trickling_answer_cannot_stretch_the_deadline(hostile, make_client, name, behaviour) -> None:
    """The issue's case: Content-Length 1000 sent a byte at a time kept deadline=5 busy for minutes."""
    server, client = against(hostile, make_client, behaviour, deadline=1.5, timeout=1.0, max_retries=3)
    started = time.monotonic()
    with pytest.raises(sg.TimeoutError) as caught:
        client.text_to_speech("Hello there.", "en-us-male-1")
    took = time.monotonic() - started
    assert took < 1.5 + 1.0, f"{name}: {took:.2f} s for a deadline of 1.5 s"
    assert "deadline of 1.5 s" in str(caught.value) and "Client(deadline=" in str(caught.value)
    assert len(server.requests) == 1, "no retry once the deadline is spent"


def test_stalled_attempts_are_retried_within_the_deadline(hostile, make_client) -> None:
    server, client = against(hostile, make_client, stall_after_head(), deadline=2.0, timeout=0.4, max_retries=10)
    started = time.monotonic()
    with pytest.raises(sg.TimeoutError):
        client.text_to_speech("Hello there.", "en-us-male-1")
    assert time.monotonic() - started < 2.0 + 1.0
    assert len(server.requests) >= 2, "a read timeout within the deadline is retried"


def test_an_upload_the_server_never_reads_ends_at_the_deadline(hostile, make_client) -> None:
    server, client = against(hostile, make_client, never_read(), read_requests=False, deadline=1.5, timeout=30)
    started = time.monotonic()
    with pytest.raises(sg.TimeoutError, match="deadline of 1.5 s"):
        client.clone_voice(b"\x00" * (10 * MiB - 1024), "Blocked", filename="x.wav", check=False)
    assert time.monotonic() - started < 1.5 + 1.0


def test_the_default_transports_clip_every_operation_to_the_deadline() -> None:
    """The mechanism, checked directly: if httpx ever moves its pool, this says so before a user finds out."""
    assert _deadline.install(httpx.HTTPTransport()) and _deadline.install(httpx.AsyncHTTPTransport())
    with sg.Client(api_key=KEY, base_url="http://127.0.0.1:9") as client:
        assert isinstance(client._http._transport._pool._network_backend, _deadline.DeadlineBackend)


# -- downloads are bounded -----------------------------------------------------------------------


def test_a_declared_length_over_the_cap_is_refused_before_reading(hostile, make_client) -> None:
    server, client = against(hostile, make_client, zeros(5 * 1024**3))  # 5 GiB of "audio/mpeg"
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(sg.ResponseTooLargeError) as caught:
            client.text_to_speech("Hello there.", "en-us-male-1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 2.0
    err = caught.value
    assert err.size == 5 * 1024**3 and err.limit == C.DEFAULT_MAX_AUDIO_BYTES
    assert "5,368,709,120 bytes" in str(err) and "max_audio_bytes" in str(err)
    assert peak < 2 * MiB, f"nothing of the body is held: peak {peak / MiB:.1f} MiB"


@pytest.mark.parametrize("where", ["speech", "sample"])
def test_a_stream_past_the_cap_is_cut_off_and_memory_stays_near_it(hostile, make_client, where) -> None:
    cap = 8 * MiB
    server, client = against(hostile, make_client, zeros(None), max_audio_bytes=cap)  # no length: read to close
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(sg.ResponseTooLargeError, match="went past 8,388,608 bytes"):
            if where == "speech":
                client.text_to_speech("Hello there.", "en-us-male-1")
            else:
                client.sample_audio(sg.Sample.from_api({"title": "t", "text": "x", "audio_url": server.base_url + "/s.mp3"}))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    took = time.monotonic() - started
    print(f"\n{where}: cut off at the 8 MiB cap in {took:.2f} s, traced peak {peak / MiB:.2f} MiB")
    assert peak < 1.25 * cap + 1 * MiB, f"peak {peak / MiB:.1f} MiB for a cap of 8 MiB"
    assert server.conns[0].sent < 64 * MiB, "the client stopped reading at the cap"


def test_a_json_answer_is_capped_too(hostile, make_client) -> None:
    server, client = against(hostile, make_client, zeros(None, "application/json"))
    with pytest.raises(sg.ResponseTooLargeError, match="no Speechgen answer is this large"):
        client.get_model("vm_abc")


# -- a 200 that is not audio is refused, naming what came ------------------------------------------

LOGIN = b"<!doctype html><html><head><title>Sign in to the hotel Wi-Fi</title></head><body>...</body></html>"


@pytest.mark.parametrize(
    ("body", "content_type", "named"),
    [
        (LOGIN, "text/html; charset=utf-8", "an HTML page (text/html) starting '<!doctype html><html><head><title>Sign in"),
        (b'{"error": {"message": "quota exceeded"}}', "application/json", "JSON (application/json) starting '{\"error\": {\"message\": \"quota exceeded\"}}'"),
        (b"", "audio/mpeg", "an empty body (audio/mpeg)"),
        (LOGIN, "audio/mpeg", "an HTML page (audio/mpeg)"),
        # Some Windows servers answer in UTF-16, behind its byte-order mark: still a page, not "binary data".
        ("\ufeff".encode("utf-16-le") + LOGIN.decode().encode("utf-16-le"), "text/html; charset=utf-16",
         "an HTML page (text/html) starting '<!doctype html><html><head><title>Sign in"),
        (b"\x00\x01\x02\x03" * 100, "audio/mpeg", "binary data (audio/mpeg) starting with bytes 00 01 02 03"),
    ],
)
@pytest.mark.parametrize("where", ["speech", "sample"])
def test_a_200_that_is_not_audio_is_an_unexpected_response(hostile, make_client, body, content_type, named, where) -> None:
    server, client = against(hostile, make_client, answer("200 OK", body, content_type))
    with pytest.raises(sg.UnexpectedResponseError) as caught:
        if where == "speech":
            client.text_to_speech("Hello there.", "en-us-male-1")
        else:
            client.sample_audio(sg.Sample.from_api({"title": "t", "text": "x", "audio_url": server.base_url + "/s.mp3"}))
    err = caught.value
    assert isinstance(err, sg.APIError) and err.status == 200
    assert named in str(err), str(err)
    assert "Check the base URL" in str(err)
    assert len(server.requests) == 1, "not retried: the same answer would come again"


def test_audio_labelled_as_a_page_is_refused_and_real_audio_is_taken_by_its_bytes(hostile, make_client) -> None:
    mp3 = make_audio("mp3", 1.0)
    _, client = against(hostile, make_client, answer("200 OK", mp3, "text/html"))
    with pytest.raises(sg.UnexpectedResponseError, match="Content-Type does not say audio"):
        client.text_to_speech("Hello there.", "en-us-male-1")
    _, client = against(hostile, make_client, answer("200 OK", mp3, "application/octet-stream"))
    speech = client.text_to_speech("Hello there.", "en-us-male-1", format="wav")
    assert speech.format == "mp3" and speech.data == mp3, "the bytes say MP3: that is what plays and saves"


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [("status", ["ready"], "status"), ("model_id", 5, "model_id"), ("status", {"s": "ready"}, "status")],
)
def test_a_model_whose_key_fields_have_the_wrong_type_is_refused(hostile, make_client, field, value, named) -> None:
    model = {"model_id": "vm_1", "name": "n", "status": "ready", "voice_id": "custom-1", field: value}
    _, client = against(hostile, make_client, answer("200 OK", json.dumps(model).encode(), "application/json"))
    with pytest.raises(sg.UnexpectedResponseError, match=f"'{named}' is"):
        client.get_model("vm_1")


# -- the key is kept nowhere in an error ---------------------------------------------------------


def _echo_key(status: str):  # type: ignore[no-untyped-def]
    def behave(conn, request) -> None:  # type: ignore[no-untyped-def]
        auth = request.headers["authorization"]
        body = json.dumps({
            "error": {"code": f"bad_{auth}", "message": f"The key '{auth}' is not valid."},
            "request": {"headers": {"authorization": auth}, auth: [auth, {"again": auth}]},
        }).encode()
        answer(status, body, "application/json", X_Request_Id=f"req_{auth}")(conn, request)

    return behave


@pytest.mark.parametrize("status", ["401 Unauthorized", "400 Bad Request", "503 Service Unavailable"])
def test_an_echoed_key_is_scrubbed_from_everything_the_error_keeps(hostile, make_client, status) -> None:
    server, client = against(hostile, make_client, _echo_key(status), max_retries=0)
    with pytest.raises(sg.APIError) as caught:
        client.get_model("vm_1")
    err = caught.value
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}", "the server did see the key"
    kept = [str(err), repr(err), err.message, err.code, err.request_id, json.dumps(err.body), repr(err.args), repr(vars(err))]
    assert all(KEY not in text for text in kept), [t for t in kept if KEY in t]
    assert "<redacted>" in json.dumps(err.body)


def test_a_page_echoing_the_key_in_place_of_audio_is_scrubbed(hostile, make_client) -> None:
    page = f"<html><body>Request was: Authorization: Bearer {KEY}</body></html>".encode()
    _, client = against(hostile, make_client, answer("200 OK", page, "text/html"))
    with pytest.raises(sg.UnexpectedResponseError) as caught:
        client.text_to_speech("Hello there.", "en-us-male-1")
    assert "Request was" in str(caught.value) and KEY not in str(caught.value) and KEY not in repr(vars(caught.value))


# -- 5xx that will fail again are not retried ------------------------------------------------------


@pytest.mark.parametrize(("status", "cls"), [("507 Insufficient Storage", sg.InsufficientStorageError),
                                             ("501 Not Implemented", sg.ServerError),
                                             ("505 HTTP Version Not Supported", sg.ServerError)])
def test_5xx_that_will_fail_again_is_not_retried(hostile, make_client, status, cls) -> None:
    body = json.dumps({"error": {"code": "insufficient_storage", "message": "The disk is full."}}).encode()
    server, client = against(hostile, make_client, answer(status, body, "application/json"), max_retries=3)
    with pytest.raises(cls) as caught:
        client.clone_voice(make_audio("wav", 11.0), "Full disk")
    assert type(caught.value) is cls
    assert len(server.requests) == 1, "one upload, not four"
    if cls is sg.InsufficientStorageError:
        assert "The disk is full." in str(caught.value) and "not retried" in str(caught.value)


def test_a_failed_models_reason_echoing_the_key_is_scrubbed(hostile, make_client) -> None:
    model = {"model_id": "vm_1", "name": "n", "status": "failed",
             "error": {"code": f"bad_{KEY}", "message": f"Upload by {KEY} was refused."}}
    _, client = against(hostile, make_client, answer("200 OK", json.dumps(model).encode(), "application/json"))
    with pytest.raises(sg.ModelFailedError) as caught:
        client.wait_for_model("vm_1", timeout=5)
    err = caught.value
    assert "was refused" in str(err)
    assert KEY not in str(err) and KEY not in repr(vars(err))


def test_a_lost_connection_keeps_no_key_in_the_error_chain(make_client) -> None:
    import socket

    with socket.socket() as unused:  # a port nobody listens on: connecting is refused at once
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}", max_retries=1)
    with pytest.raises(sg.ConnectionError) as caught:
        client.get_model("vm_1")
    cause = caught.value.__cause__
    assert isinstance(cause, httpx.ConnectError)
    assert cause.request.headers["authorization"] == "<redacted>"
