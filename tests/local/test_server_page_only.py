"""`start(page_only=True)` / `speechgen-local --page-only`: the real service as its public page documents it.

The page's four endpoints and the sample URLs its 201 points at, answering with exactly the fields
the page's examples show; everything else (this project's extras included) answers exactly as an
unknown path does. Compared field by field with the page's JSON examples.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator

import httpx
import pytest

from speechgen_jupyter.local import LocalServer

from .helpers import api_client, assert_error, clone

# The keys of the page's examples (../shared/spec/speechgen-voice-cloning-page.txt).
PAGE_CREATED_KEYS = {"model_id", "name", "description", "status", "created_at", "estimated_completion", "samples"}
PAGE_MODEL_KEYS = {"model_id", "name", "status", "voice_id", "created_at", "usage_count"}
PAGE_SAMPLE_KEYS = {"title", "text", "audio_url"}
# What a full server answers and a page-only one must not.
OURS = [("GET", "/v1/models"), ("GET", "/v1/models?limit=1"), ("GET", "/v1/voices"), ("GET", "/openapi.json")]


@pytest.fixture(scope="module")
def strict(serve: Callable[..., LocalServer]) -> LocalServer:
    return serve(page_only=True, admin=True, transition="immediate")


@pytest.fixture
def api(strict: LocalServer) -> Iterator[httpx.Client]:
    with api_client(strict) as client:
        yield client
        client.put("/_admin/transition", json={"progression": "immediate"}).raise_for_status()


def _made(api: httpx.Client, speech_mp3: bytes, **fields: str) -> dict:
    response = clone(api, speech_mp3, "My Custom Voice", description="Professional narrator voice", **fields)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(("method", "path"), OURS)
def test_our_extras_answer_exactly_as_an_unknown_path(strict: LocalServer, api: httpx.Client, method: str, path: str) -> None:
    unknown = api.request(method, "/v1/nonexistent")
    answer = api.request(method, path)
    assert_error(answer, 404, "not_found")
    assert (answer.status_code, answer.json(), answer.headers["content-type"]) == (
        unknown.status_code, unknown.json(), unknown.headers["content-type"],
    )
    assert "openapi" not in answer.text
    # Without the key too: an unknown path is behind the key, and so is every extra (the schema included).
    bare_unknown = httpx.request(method, strict.base_url + "/v1/nonexistent")
    bare = httpx.request(method, strict.base_url + path)
    assert_error(bare, 401, "missing_api_key")
    assert bare.json() == bare_unknown.json()


def test_the_page_endpoints_answer_with_the_page_fields_only(strict: LocalServer, api: httpx.Client, speech_mp3: bytes) -> None:
    created = _made(api, speech_mp3, enhance_quality="true")
    assert set(created) == PAGE_CREATED_KEYS
    assert created["name"] == "My Custom Voice" and created["description"] == "Professional narrator voice"
    assert [set(s) for s in created["samples"]] == [PAGE_SAMPLE_KEYS]
    model_id = created["model_id"]

    model = api.get(f"/v1/models/{model_id}").json()
    assert set(model) == PAGE_MODEL_KEYS, model  # no description, samples or estimated_completion: the page shows them only in the 201
    assert model["status"] == "ready" and model["voice_id"].startswith("custom-") and model["usage_count"] == 0

    # The sample URL from the 201 serves audio, with no key, like a CDN.
    sample = httpx.get(created["samples"][0]["audio_url"], timeout=30)
    assert sample.status_code == 200 and sample.headers["content-type"] == "audio/mpeg"
    assert sample.content[:3] == b"ID3" or sample.content[:2] in (b"\xff\xfb", b"\xff\xf3")

    # The page's text-to-speech request, as its curl example sends it.
    spoken = api.post(
        "/v1/text-to-speech", json={"text": "Hello, this is my cloned voice speaking!", "voice": model["voice_id"], "format": "mp3"}
    )
    assert spoken.status_code == 200 and spoken.headers["content-type"] == "audio/mpeg" and len(spoken.content) > 1000
    assert api.get(f"/v1/models/{model_id}").json()["usage_count"] == 1

    assert api.delete(f"/v1/models/{model_id}").status_code == 204
    gone = assert_error(api.get(f"/v1/models/{model_id}"), 404, "model_not_found")
    assert "/v1/models lists" not in gone["message"]  # no pointing at a listing this server does not have
    assert httpx.get(created["samples"][0]["audio_url"], timeout=30).status_code == 404


def test_a_processing_model_has_no_voice_id_and_a_failed_one_no_reason(api: httpx.Client, speech_mp3: bytes) -> None:
    api.put("/_admin/transition", json={"progression": "time", "seconds": 60}).raise_for_status()
    waiting = api.get(f"/v1/models/{_made(api, speech_mp3)['model_id']}").json()
    assert waiting["status"] == "processing" and set(waiting) == PAGE_MODEL_KEYS - {"voice_id"}

    api.put("/_admin/transition", json={"progression": "fail", "reason": "Music under the voice."}).raise_for_status()
    failed = api.get(f"/v1/models/{_made(api, speech_mp3)['model_id']}").json()
    # The page says only that the status is "failed"; the reason (`error`) is this project's extra.
    assert failed["status"] == "failed" and set(failed) == PAGE_MODEL_KEYS - {"voice_id"}


def test_idempotency_key_is_not_a_page_feature_so_it_is_ignored(api: httpx.Client, speech_mp3: bytes) -> None:
    headers = {"Idempotency-Key": "sgj-same-key-twice"}
    first = clone(api, speech_mp3, headers=headers)
    second = clone(api, speech_mp3, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["model_id"] != second.json()["model_id"]
    assert "idempotent-replayed" not in second.headers
    assert clone(api, speech_mp3, headers={"Idempotency-Key": "x" * 1000}).status_code == 201  # a full server refuses it


def test_wrong_methods_are_still_405(api: httpx.Client) -> None:
    assert_error(api.put("/v1/models/vm_abc"), 405, "method_not_allowed")
    assert_error(api.get("/v1/text-to-speech"), 405, "method_not_allowed")


def test_cli_page_only_says_so_and_serves_only_the_page(tmp_path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "speechgen_jupyter.local", "--port", "0", "--page-only", "--api-key", "page-key"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(5)]
        url = lines[0].split(" at ", 1)[1].strip()
        assert lines[0].startswith("Speechgen local server at http://127.0.0.1:")  # binder/start and benchmarks parse it
        assert any(line.startswith("Mode: page-only") for line in lines), lines
        headers = {"Authorization": "Bearer page-key"}
        assert httpx.get(url + "/v1/voices", headers=headers, timeout=10).status_code == 404
        assert_error(httpx.get(url + "/v1/models/vm_0000000000", headers=headers, timeout=10), 404, "model_not_found")
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
