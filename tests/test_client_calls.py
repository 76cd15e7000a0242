"""Every client method sends what the spec says and reads what the server answers.

These run against httpx.MockTransport so each request can be inspected byte
for byte; tests/test_client_local.py runs the same calls against the real local
server.
"""

from __future__ import annotations

import io
import json

import httpx
import pytest

import speechgen_jupyter as sg
from fakes import KEY, MODEL, Recorder, multipart_fields
from media import make_audio

@pytest.fixture(scope="module")
def mp3_sample() -> bytes:
    return make_audio("mp3", 12.0)


def test_clone_voice_sends_the_page_multipart_form(make_client, mp3_sample, tmp_path) -> None:
    server = Recorder(httpx.Response(201, json=MODEL))
    client = make_client(server)
    path = tmp_path / "narrator.mp3"
    path.write_bytes(mp3_sample)

    model = client.clone_voice(path, "My Custom Voice", "Professional narrator voice", enhance_quality=True)

    (request,) = server.requests
    assert request.method == "POST"
    assert request.url == "https://api.speechgen.test/v1/voice-clone"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"].startswith("multipart/form-data")
    fields = multipart_fields(request)
    assert fields["audio"] == mp3_sample
    assert fields["_filename"] == b"narrator.mp3"
    assert fields["_content_type"] == b"audio/mpeg"
    assert fields["name"] == b"My Custom Voice"
    assert fields["description"] == b"Professional narrator voice"
    assert fields["enhance_quality"] == b"true"
    assert request.headers["idempotency-key"]
    assert model.model_id == "vm_abc123xyz"
    assert model.is_processing
    assert model.samples[0].title == "Default Sample"
    assert model.estimated_completion.isoformat() == "2024-01-15T10:31:00+00:00"


@pytest.mark.parametrize("kind", ["bytes", "file object", "path string"])
def test_clone_voice_takes_bytes_file_objects_and_paths(make_client, mp3_sample, tmp_path, kind) -> None:
    server = Recorder(httpx.Response(201, json=MODEL))
    client = make_client(server)
    path = tmp_path / "me.mp3"
    path.write_bytes(mp3_sample)
    audio = {"bytes": mp3_sample, "file object": open(path, "rb"), "path string": str(path)}[kind]

    client.clone_voice(audio, "Me")

    fields = multipart_fields(server.requests[0])
    assert fields["audio"] == mp3_sample
    assert fields["enhance_quality"] == b"false"
    assert "description" not in fields
    if kind == "bytes":
        assert fields["_filename"] == b"sample"
    else:
        assert fields["_filename"] == b"me.mp3"
    if kind == "file object":
        audio.close()


def test_clone_voice_refuses_a_text_mode_file(make_client, tmp_path) -> None:
    server = Recorder(httpx.Response(201, json=MODEL))
    client = make_client(server)
    (tmp_path / "a.mp3").write_bytes(b"x")
    with open(tmp_path / "a.mp3") as text_file, pytest.raises(sg.InvalidInputError, match="'rb'"):
        client.clone_voice(text_file, "x")
    assert server.requests == []


def test_clone_voice_names_a_missing_file(make_client) -> None:
    server = Recorder(httpx.Response(201, json=MODEL))
    with pytest.raises(sg.InvalidInputError, match="No audio file at 'nowhere/voice.mp3'"):
        make_client(server).clone_voice("nowhere/voice.mp3", "x")
    assert server.requests == []


def test_get_model_reads_the_page_shape_and_keeps_unknown_fields(make_client) -> None:
    body = {
        "model_id": "vm_abc123xyz",
        "name": "My Custom Voice",
        "status": "ready",
        "voice_id": "custom-abc123",
        "created_at": "2024-01-15T10:30:00Z",
        "usage_count": 0,
        "accent": "scottish",
    }
    server = Recorder(httpx.Response(200, json=body))
    model = make_client(server).get_model("vm_abc123xyz")
    assert server.requests[0].method == "GET"
    assert server.requests[0].url.path == "/v1/models/vm_abc123xyz"
    assert model.is_ready and model.voice_id == "custom-abc123" and model.usage_count == 0
    assert model.raw["accent"] == "scottish"
    assert model.to_dict() == body


def test_a_new_status_value_is_kept_not_refused(make_client) -> None:
    server = Recorder(httpx.Response(200, json={"model_id": "vm_1", "name": "n", "status": "queued", "extra": [1]}))
    model = make_client(server).get_model("vm_1")
    assert model.status == "queued"
    assert not (model.is_ready or model.is_failed or model.is_processing)


def test_model_ids_cannot_escape_the_models_path(make_client) -> None:
    server = Recorder(httpx.Response(404, json={"error": {"code": "model_not_found", "message": "No such model."}}))
    with pytest.raises(sg.NotFoundError):
        make_client(server).get_model("../../admin")
    assert server.requests[0].url.raw_path == b"/v1/models/..%2F..%2Fadmin"


def test_delete_model_sends_delete_and_accepts_204(make_client) -> None:
    server = Recorder(httpx.Response(204))
    assert make_client(server).delete_model("vm_abc123xyz") is None
    assert server.requests[0].method == "DELETE"
    assert server.requests[0].url.path == "/v1/models/vm_abc123xyz"


def test_text_to_speech_posts_the_page_json_and_returns_replayable_audio(make_client, tmp_path) -> None:
    audio = make_audio("mp3", 2.0)
    server = Recorder(httpx.Response(200, content=audio, headers={"content-type": "audio/mpeg"}))
    speech = make_client(server).text_to_speech("Hello, this is my cloned voice speaking!", "custom-abc123")

    request = server.requests[0]
    assert request.url.path == "/v1/text-to-speech"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "text": "Hello, this is my cloned voice speaking!",
        "voice": "custom-abc123",
        "format": "mp3",
    }
    assert speech.format == "mp3" and speech.media_type == "audio/mpeg"
    assert bytes(speech) == audio and bytes(speech) == audio  # read again and again
    assert speech.duration == pytest.approx(2.0, abs=0.1)
    first = speech.save(tmp_path / "hello")
    second = speech.save(tmp_path / "again.mp3")
    assert first.name == "hello.mp3" and first.read_bytes() == audio == second.read_bytes()
    assert sg.Speech.load(first) == speech


@pytest.mark.parametrize(
    ("fmt", "media_type"), [("wav", "audio/wav"), ("ogg", "audio/ogg"), ("flac", "audio/flac"), ("MP3", "audio/mpeg")]
)
def test_text_to_speech_formats(make_client, fmt, media_type) -> None:
    audio = make_audio(fmt.lower(), 1.0)
    server = Recorder(httpx.Response(200, content=audio, headers={"content-type": media_type}))
    speech = make_client(server).text_to_speech("Hi there.", "en-us", format=fmt)
    assert json.loads(server.requests[0].content)["format"] == fmt.lower()
    assert speech.format == fmt.lower()


@pytest.mark.parametrize(
    ("text", "voice", "fmt", "message"),
    [
        ("", "en-us", "mp3", "text is empty"),
        ("   \n", "en-us", "mp3", "text is empty"),
        ("x" * 5001, "en-us", "mp3", "5,001 characters"),
        ("Hello", "", "mp3", "voice must be a voice_id"),
        ("Hello", "en-us", "aiff", "format must be one of mp3, wav, ogg, flac"),
    ],
)
def test_text_to_speech_refuses_bad_arguments_before_sending(make_client, text, voice, fmt, message) -> None:
    server = Recorder(httpx.Response(200, content=b""))
    with pytest.raises(sg.InvalidInputError, match=message):
        make_client(server).text_to_speech(text, voice, format=fmt)
    assert server.requests == []


def test_text_to_speech_takes_a_ready_model_but_not_a_processing_one(make_client) -> None:
    server = Recorder(httpx.Response(200, content=b"ID3", headers={"content-type": "audio/mpeg"}))
    client = make_client(server)
    ready = sg.VoiceModel.from_api({"model_id": "vm_1", "name": "n", "status": "ready", "voice_id": "custom-1"})
    client.text_to_speech("Hi.", ready)
    assert json.loads(server.requests[0].content)["voice"] == "custom-1"
    with pytest.raises(sg.InvalidInputError, match="wait until it is ready"):
        client.text_to_speech("Hi.", sg.VoiceModel.from_api(MODEL))


def test_saving_under_a_lying_suffix_is_refused(tmp_path) -> None:
    speech = sg.Speech(make_audio("mp3", 1.0), "mp3")
    with pytest.raises(ValueError, match="names a .wav file"):
        speech.save(tmp_path / "speech.wav")
    assert not (tmp_path / "speech.wav").exists()


def test_list_models_follows_next_cursor(make_client) -> None:
    pages = {
        None: {"models": [dict(MODEL, model_id="vm_1"), dict(MODEL, model_id="vm_2")], "next_cursor": "c2"},
        "c2": {"models": [dict(MODEL, model_id="vm_3")], "next_cursor": None},
    }
    seen_cursors = []

    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        seen_cursors.append(cursor)
        return httpx.Response(200, json=pages[cursor])

    models = make_client(handler).list_models()
    assert [m.model_id for m in models] == ["vm_1", "vm_2", "vm_3"]
    assert seen_cursors == [None, "c2"]


def test_list_models_stops_on_a_repeating_cursor(make_client) -> None:
    server = Recorder(httpx.Response(200, json={"models": [dict(MODEL, model_id="vm_1")], "next_cursor": "same"}))
    models = make_client(server).list_models()
    assert len(server.requests) == 2  # first page, then the cursor once; never forever
    assert [m.model_id for m in models] == ["vm_1", "vm_1"]


def test_list_voices(make_client) -> None:
    body = {
        "voices": [
            {"voice_id": "en-us", "name": "US English", "kind": "builtin", "language": "en"},
            {"voice_id": "custom-abc123", "name": "My Custom Voice", "kind": "custom", "language": "en"},
        ]
    }
    voices = make_client(Recorder(httpx.Response(200, json=body))).list_voices()
    assert [(v.voice_id, v.kind) for v in voices] == [("en-us", "builtin"), ("custom-abc123", "custom")]


# How other servers say "not here" (the local one cannot answer these ways, so they are made up here).
ABSENT = {
    "a 404 of its own": lambda: httpx.Response(404, json={"detail": "Not Found"}),
    "a 405": lambda: httpx.Response(405, json={"error": {"code": "method_not_allowed", "message": "No."}}),
    "a web page for any path": lambda: httpx.Response(200, text="<!doctype html><title>Speechgen</title>"),
}


@pytest.mark.parametrize("answer", list(ABSENT), ids=list(ABSENT))
def test_a_server_without_our_listings_learns_it_once_and_falls_back(make_client, answer) -> None:
    """Without GET /v1/models or GET /v1/voices there is nothing remembered yet: empty lists, no error, one ask each."""
    server = Recorder(ABSENT[answer](), ABSENT[answer](), ABSENT[answer]())
    client = make_client(server)
    assert client.list_models() == [] and client.list_voices() == []
    assert client.extras.lacking() == ("model_listing", "voice_listing") and "no model or voice listing" in client.extras.note()
    asked = [r.url.path for r in server.requests]
    assert asked == ["/v1/models", "/v1/voices"]
    client.list_models(), client.list_voices()
    assert len(server.requests) == 2  # learnt: not asked again


@pytest.mark.parametrize(
    "failure",
    [
        (401, {"error": {"code": "invalid_api_key", "message": "Wrong key."}}),
        (404, {"error": {"code": "model_not_found", "message": "No such model."}}),
    ],
    ids=["wrong key", "a resource's 404"],
)
def test_a_failure_of_a_listing_is_raised_not_taken_for_absence(make_client, failure) -> None:
    client = make_client(Recorder(httpx.Response(failure[0], json=failure[1])), max_retries=0)
    with pytest.raises(sg.APIError):
        client.list_models()
    assert client.extras.model_listing is None


def test_sample_audio_goes_through_the_kernel_without_leaking_the_key_to_another_host(make_client) -> None:
    audio = make_audio("mp3", 1.0)
    server = Recorder(httpx.Response(200, content=audio, headers={"content-type": "audio/mpeg"}))
    client = make_client(server)
    model = sg.VoiceModel.from_api(dict(MODEL, status="ready", voice_id="custom-abc123"))

    speech = client.sample_audio(model.samples[0], model)

    request = server.requests[0]
    assert str(request.url) == "https://cdn.speechgen.test/samples/abc123.mp3"
    assert "authorization" not in request.headers
    assert bytes(speech) == audio and speech.text.startswith("This is a demonstration")


def test_sample_on_the_api_origin_is_fetched_with_the_key(make_client) -> None:
    server = Recorder(httpx.Response(200, content=b"ID3", headers={"content-type": "audio/mpeg"}))
    sample = sg.Sample.from_api({"title": "t", "text": "x", "audio_url": "https://api.speechgen.test/cdn/s/a.mp3"})
    make_client(server).sample_audio(sample)
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_speech_plays_inline_without_autoplay_or_loop() -> None:
    speech = sg.Speech(make_audio("mp3", 1.5), "mp3", text="Hello <world>", voice="en-us")
    html = speech._repr_html_()
    assert "<audio controls" in html and "data:audio/mpeg;base64," in html
    assert "autoplay" not in html and "loop" not in html
    assert "Hello &lt;world&gt;" in html
    assert "1.5 s" in repr(speech) and "MP3" in repr(speech)


def test_speech_decodes_to_numpy() -> None:
    speech = sg.Speech(make_audio("wav", 1.25), "wav")
    samples, rate = speech.to_numpy()
    assert rate == 16_000
    assert samples.dtype.name == "float32" and len(samples) == 20_000
    assert 0.2 < abs(samples).max() <= 1.0


def test_file_object_is_read_once_but_resent_whole(make_client, mp3_sample) -> None:
    """A retry resends the whole upload even though the file object was consumed."""
    server = Recorder(httpx.Response(503), httpx.Response(201, json=MODEL))
    client = make_client(server, max_retries=2)
    client.clone_voice(io.BytesIO(mp3_sample), "x")
    bodies = [multipart_fields(r)["audio"] for r in server.requests]
    assert bodies == [mp3_sample, mp3_sample]


@pytest.mark.parametrize(
    ("audio", "error", "message"),
    [
        (make_audio("wav", 4.0), sg.AudioValidationError, "4.0 seconds long"),
        (b"just some notes, not audio", sg.UnsupportedMediaTypeError, "plain text"),
        (b"\0" * (10 * 1024 * 1024 + 1), sg.PayloadTooLargeError, "the limit is 10 MB"),
    ],
)
def test_a_bad_sample_is_refused_before_anything_is_sent(make_client, audio, error, message) -> None:
    server = Recorder(httpx.Response(201, json=MODEL))
    with pytest.raises(error, match=message) as caught:
        make_client(server).clone_voice(audio, "Me", filename="me.mp3")
    assert server.requests == []
    assert caught.value.filename == "me.mp3" and "me.mp3" in str(caught.value)


def test_check_false_leaves_the_judgement_to_the_server(make_client) -> None:
    server = Recorder(httpx.Response(201, json=MODEL))
    make_client(server).clone_voice(make_audio("wav", 4.0), "Me", check=False)
    assert len(server.requests) == 1
