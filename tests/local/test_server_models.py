"""A voice model's life through the API: create, read, use, list, delete — shapes as the page shows."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest

from speechgen_jupyter.local import LocalServer

from .helpers import api_client, assert_error, clone, files_under

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CREATED_KEYS = {"model_id", "name", "description", "status", "created_at", "estimated_completion", "samples"}


def parse_time(text: str) -> datetime:
    assert ISO_Z.match(text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def ready_model(api: httpx.Client, speech_mp3: bytes) -> dict:
    created = clone(api, speech_mp3, "Narrator", description="Professional narrator voice", enhance_quality="false")
    assert created.status_code == 201, created.text
    model = api.get(f"/v1/models/{created.json()['model_id']}").json()
    assert model["status"] == "ready", model
    return {"created": created, "model": model}


def test_created_response_has_exactly_the_pages_shape(server: LocalServer, ready_model: dict) -> None:
    r = ready_model["created"]
    body = r.json()
    assert set(body) == CREATED_KEYS
    assert re.match(r"^vm_[a-z0-9]+$", body["model_id"])
    assert body["name"] == "Narrator" and body["description"] == "Professional narrator voice"
    assert body["status"] == "processing"
    assert parse_time(body["estimated_completion"]) >= parse_time(body["created_at"])
    [sample] = body["samples"]
    assert set(sample) == {"title", "text", "audio_url"}
    assert sample["title"] == "Default Sample" and sample["text"].startswith("This is a demonstration of the voice clone")
    assert re.match(re.escape(server.base_url) + r"/cdn/samples/[A-Za-z0-9_-]{32,}\.mp3$", sample["audio_url"])
    assert r.headers["location"] == f"/v1/models/{body['model_id']}"


def test_ready_model_has_the_pages_fields_and_ours(ready_model: dict) -> None:
    created, model = ready_model["created"].json(), ready_model["model"]
    assert {"model_id", "name", "status", "voice_id", "created_at", "usage_count"} <= set(model)
    assert set(model) == {"model_id", "name", "description", "status", "voice_id", "created_at", "estimated_completion", "usage_count", "samples"}
    assert model["model_id"] == created["model_id"] and model["created_at"] == created["created_at"]
    assert re.match(r"^custom-[a-z0-9]+$", model["voice_id"])
    assert model["usage_count"] == 0
    assert model["samples"] == created["samples"]
    parse_time(model["estimated_completion"])


def test_sample_url_serves_the_rendered_clone_without_a_key(ready_model: dict) -> None:
    from speechgen_jupyter.local.engine import decode

    url = ready_model["model"]["samples"][0]["audio_url"]
    r = httpx.get(url)  # no Authorization header: the unguessable URL is the access control
    assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg"
    audio = decode(r.content)
    assert audio.container == "mp3" and audio.duration > 2.0


def test_text_to_speech_with_the_clone_counts_usage(api: httpx.Client, ready_model: dict) -> None:
    model_id, voice_id = ready_model["model"]["model_id"], ready_model["model"]["voice_id"]
    before = api.get(f"/v1/models/{model_id}").json()["usage_count"]
    for fmt in ("mp3", "wav", "ogg"):
        r = api.post("/v1/text-to-speech", json={"text": "Speaking with the cloned voice.", "voice": voice_id, "format": fmt})
        assert r.status_code == 200 and r.headers["content-type"].startswith("audio/")
    api.post("/v1/text-to-speech", json={"text": "A built-in voice is not counted.", "voice": "en-us-male-1"})
    assert_error(api.post("/v1/text-to-speech", json={"text": "", "voice": voice_id}), 400, "empty_text")
    assert api.get(f"/v1/models/{model_id}").json()["usage_count"] == before + 3


def test_voices_lists_the_ready_clone(api: httpx.Client, ready_model: dict) -> None:
    voices = api.get("/v1/voices").json()["voices"]
    custom = [v for v in voices if v["voice_id"] == ready_model["model"]["voice_id"]]
    # Built on a neural voice: the engine and the base voice's sex and accent come with it.
    assert custom == [
        {
            "voice_id": ready_model["model"]["voice_id"], "name": "Narrator", "kind": "custom", "language": "en",
            "engine": "piper", "neural": True, "gender": "male", "accent": "en-US",
        }
    ]  # fmt: skip


def test_two_reference_speakers_give_clearly_different_clones(api: httpx.Client, speech_mp3: bytes, other_speech_mp3: bytes) -> None:
    """Through the whole server: the clone of a deep male sample speaks far lower than that of a bright female one."""
    from speechgen_jupyter.local.engine import decode
    from speechgen_jupyter.local.engine.analysis import measure

    pitches = {}
    for label, sample in (("male", speech_mp3), ("female", other_speech_mp3)):
        model = api.get(f"/v1/models/{clone(api, sample, label).json()['model_id']}").json()
        speech = api.post(
            "/v1/text-to-speech",
            json={"text": "The same sentence, read by each clone in turn, for a fair comparison.", "voice": model["voice_id"], "format": "wav"},
        )
        audio = decode(speech.content)
        pitches[label] = measure(audio.samples, audio.sample_rate).pitch_hz
    assert pitches["female"] > 1.4 * pitches["male"], pitches


def test_listing_pages_through_every_model_once(serve, speech_mp3: bytes) -> None:  # type: ignore[no-untyped-def]
    # Models made to fail at once: listing needs models, not clones.
    server = serve(transition={"progression": "fail", "reason": "listing test"})
    with api_client(server) as api:
        made = [clone(api, speech_mp3, f"voice {i}").json()["model_id"] for i in range(5)]
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            r = api.get("/v1/models", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
            assert r.status_code == 200
            body = r.json()
            assert set(body) == {"models", "next_cursor"} and len(body["models"]) <= 2
            seen += [m["model_id"] for m in body["models"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(made)), "newest first, each exactly once"
        assert pages == 3
        first = api.get("/v1/models", params={"limit": 100}).json()
        assert first["next_cursor"] is None and [m["model_id"] for m in first["models"]] == seen
        for m in first["models"]:
            assert m["status"] == "failed" and m["error"] == {"code": "clone_failed", "message": "listing test"}


def test_delete_removes_the_model_its_voice_its_sample_and_its_files(server: LocalServer, api: httpx.Client, speech_mp3: bytes) -> None:
    model = api.get(f"/v1/models/{clone(api, speech_mp3, 'To delete').json()['model_id']}").json()
    model_id, voice_id, url = model["model_id"], model["voice_id"], model["samples"][0]["audio_url"]
    token = url.rsplit("/", 1)[1]
    assert f"{model_id}.audio" in files_under(server.data_dir, "uploads")
    assert token in files_under(server.data_dir, "samples")

    r = api.delete(f"/v1/models/{model_id}")
    assert r.status_code == 204 and r.content == b""
    assert_error(api.get(f"/v1/models/{model_id}"), 404, "model_not_found")
    assert_error(api.delete(f"/v1/models/{model_id}"), 404, "model_not_found")
    assert_error(httpx.get(url), 404, "sample_not_found")
    assert_error(api.post("/v1/text-to-speech", json={"text": "Gone?", "voice": voice_id}), 404, "voice_not_found")
    assert voice_id not in {v["voice_id"] for v in api.get("/v1/voices").json()["voices"]}
    assert f"{model_id}.audio" not in files_under(server.data_dir, "uploads")
    assert token not in files_under(server.data_dir, "samples")
    assert model_id not in {m["model_id"] for m in api.get("/v1/models?limit=100").json()["models"]}
