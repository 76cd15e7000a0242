"""The client's calls for real: over loopback HTTP against the local server, full and page-only.

The same operations as tests/test_client_calls.py, but nothing is faked: real
multipart uploads, real cloning, real speech, real faults injected by the
server (dropped connections, 503s, 429s with Retry-After). Each test that uses
`server` runs against both modes; on page-only there is no listing, so "your
models" and their voices come from the record the client keeps.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import speechgen_jupyter as sg
from media import make_audio, speech_file
from speechgen_jupyter.local import LocalServer, start


@pytest.fixture(scope="module")
def server(page_only: bool) -> Iterator[LocalServer]:
    with start(transition={"progression": "polls", "times": 2}, admin=True, page_only=page_only) as srv:
        yield srv


@pytest.fixture(scope="module")
def sample() -> bytes:
    return speech_file("mp3", 12.0, voice="en-us-male-2")


@pytest.fixture
def client(make_client, server):
    return make_client(api_key=server.api_key, base_url=server.base_url)


@pytest.fixture(scope="module")
def voice_id(server: LocalServer, page_only: bool, sample: bytes) -> str:
    """A voice to speak with: the first one the server lists, or (page-only: nothing is listed) a clone of ours."""
    with sg.Client(api_key=server.api_key, base_url=server.base_url) as c:
        if not page_only:
            return c.list_voices()[0].voice_id
        return str(c.wait_for_model(c.clone_voice(sample, "Module voice").model_id, 60).voice_id)


def admin(server: LocalServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"})


def test_a_whole_voice_cloning_session(client, sample, page_only) -> None:
    voices = client.list_voices()
    assert all(v.kind == "builtin" for v in voices) and bool(voices) is not page_only  # page-only: none made yet

    model = client.clone_voice(sample, "Narrator", "A calm voice", enhance_quality=True)
    assert model.is_processing and model.model_id.startswith("vm_")
    assert model.estimated_completion is not None and model.estimated_completion >= model.created_at

    progress: list[sg.WaitProgress] = []
    ready = client.wait_for_model(model.model_id, timeout=60, on_progress=progress.append)
    assert ready.is_ready and ready.voice_id
    assert progress[-1].fraction == 1.0 and len(progress) >= 2
    # The page's GET shows no estimate, description or samples: on page-only they come from the 201, remembered.
    assert progress[0].seconds_left is not None
    assert ready.description == "A calm voice" and ready.usage_count == 0 and ready.samples

    sample_clip = client.sample_audio(ready.samples[0], ready)
    assert sample_clip.format == "mp3" and sample_clip.duration > 1.0

    speech = client.text_to_speech("Hello, this is my cloned voice speaking!", ready.voice_id)
    assert speech.format == "mp3" and 1.0 < speech.duration < 6.0
    samples, rate = speech.to_numpy()
    assert abs(samples).max() > 0.05  # real sound, not silence

    assert ready.voice_id in {v.voice_id for v in client.list_voices()}
    assert client.get_model(model.model_id).usage_count == 1
    assert model.model_id in {m.model_id for m in client.list_models()}

    client.delete_model(model.model_id)
    with pytest.raises(sg.NotFoundError) as caught:
        client.get_model(model.model_id)
    assert caught.value.code and caught.value.request_id


@pytest.mark.parametrize("fmt", ["mp3", "wav", "ogg", "flac"])
def test_text_to_speech_in_each_format_is_real_audio_of_that_format(client, voice_id, fmt) -> None:
    speech = client.text_to_speech("One, two, three, four, five.", voice_id, format=fmt)
    assert speech.format == fmt
    assert sg.inspect_audio(speech.data).format == fmt
    assert 1.0 < speech.duration < 5.0


def test_a_short_sample_is_refused_by_the_client_with_the_reason(client) -> None:
    with pytest.raises(sg.AudioValidationError, match="short.mp3 is 4.0 seconds long") as caught:
        client.clone_voice(make_audio("mp3", 4.0), "Too short", filename="short.mp3")
    assert caught.value.status is None  # the client's own check: nothing reached the server
    assert caught.value.filename == "short.mp3"


def test_what_only_the_server_can_tell_comes_back_as_audio_validation(client) -> None:
    with pytest.raises(sg.AudioValidationError) as caught:
        client.clone_voice(make_audio("wav", 12.0, kind="noise"), "Noise")  # right length, no speech
    assert caught.value.status == 422 and caught.value.code == "no_speech"


def test_a_wrong_key_is_an_authentication_error(make_client, server) -> None:
    stranger = make_client(api_key="sg_local_wrong", base_url=server.base_url)
    with pytest.raises(sg.AuthenticationError) as caught:
        stranger.list_voices()
    assert caught.value.status == 401 and "sg_local_wrong" not in str(caught.value)


def test_unknown_voice_is_a_clear_error_that_says_where_to_look(client) -> None:
    with pytest.raises(sg.NotFoundError) as caught:
        client.text_to_speech("Hello.", "custom-does-not-exist")
    # In words true of any server: a ready model's voice_id (no listing to point at).
    assert caught.value.code == "voice_not_found" and "voice_id of a ready voice model" in caught.value.message


@pytest.fixture
def faulty(make_client) -> Iterator[tuple[LocalServer, object]]:
    with start(transition="immediate", admin=True) as srv:
        yield srv, make_client(api_key=srv.api_key, base_url=srv.base_url, max_retries=10, deadline=90)


def test_uploads_survive_lost_responses_without_duplicate_models(faulty, sample) -> None:
    server, client = faulty
    with admin(server) as a:
        a.put("/_admin/faults", json={"rate": 0.4, "kinds": ["drop_after", "drop", "503"], "seed": 11,
                                      "paths": ["/v1/voice-clone"]}).raise_for_status()
        models = [client.clone_voice(sample, f"voice {i}") for i in range(6)]
        injected = a.get("/_admin/state").json()["fault_stats"]
        a.put("/_admin/faults", json={"rate": 0}).raise_for_status()
    assert sum(injected.values()) >= 3  # the faults really happened
    listed = client.list_models()
    assert sorted(m.name for m in listed) == sorted(f"voice {i}" for i in range(6))  # none twice, none lost
    assert {m.model_id for m in models} == {m.model_id for m in listed}


def test_rate_limits_and_server_errors_are_ridden_out(faulty) -> None:
    server, client = faulty
    with admin(server) as a:
        a.put("/_admin/faults", json={"rate": 0.4, "kinds": ["429", "503", "drop"], "retry_after": 0, "seed": 3,
                                      "paths": ["/v1/"]}).raise_for_status()
        voice = client.list_voices()[0].voice_id
        clips = [client.text_to_speech(f"Sentence number {i}.", voice) for i in range(12)]
        injected = a.get("/_admin/state").json()["fault_stats"]
        a.put("/_admin/faults", json={"rate": 0}).raise_for_status()
    assert sum(injected.values()) >= 3
    assert all(c.duration and c.duration > 0.5 for c in clips)
    assert [c.text for c in clips] == [f"Sentence number {i}." for i in range(12)]


def test_a_server_that_always_fails_gives_up_within_the_deadline(make_client) -> None:
    import time

    with start(faults={"rate": 1.0, "kinds": ["503"], "retry_after": 0}) as srv:
        client = make_client(api_key=srv.api_key, base_url=srv.base_url, max_retries=100, deadline=1.5)
        started = time.monotonic()
        with pytest.raises(sg.ServerError) as caught:
            client.list_voices()
        assert time.monotonic() - started < 1.5 + 0.5
    assert caught.value.status == 503 and caught.value.code


def test_behind_a_proxy_that_answers_speech_with_its_login_page_the_error_says_so(make_client, server, voice_id) -> None:
    """A captive portal in front of the server: everything passes through but text-to-speech, which gets a sign-in page.

    Against page-only too, so the clear error holds on the documented API (tests/test_client_edges.py has the cases).
    """
    from hostile import Conn, HostileServer, Received, answer

    login = answer("200 OK", b"<!doctype html><html><title>Sign in to the hotel Wi-Fi</title></html>", "text/html")

    def portal(conn: Conn, request: Received) -> None:
        if request.path == "/v1/text-to-speech":
            login(conn, request)
            return
        upstream = httpx.request(request.method, server.base_url + request.path, content=request.body,
                                 headers={k: v for k, v in request.headers.items() if k in ("authorization", "content-type")})
        conn.send(f"HTTP/1.1 {upstream.status_code} X\r\nContent-Type: {upstream.headers.get('content-type', '')}\r\n"
                  f"Content-Length: {len(upstream.content)}\r\nConnection: close\r\n\r\n".encode() + upstream.content)

    with HostileServer(portal) as proxy:
        client = make_client(api_key=server.api_key, base_url=proxy.base_url)
        with pytest.raises(sg.NotFoundError):
            client.get_model("vm_00000000000000000000")  # forwarded: the server's own 404
        with pytest.raises(sg.UnexpectedResponseError) as caught:
            client.text_to_speech("Hello, this is my cloned voice speaking!", voice_id)
    assert caught.value.status == 200 and "an HTML page (text/html)" in str(caught.value)
