"""Server bugs that the proof suite found (fuzzing, the bad-input corpus), each pinned by its request.

Every test here failed before its fix: a 500 (or a worse answer) to a request
that deserves a 4xx saying what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from speechgen_jupyter.local import LocalServer

from .support import assert_api_error


@pytest.fixture(scope="module")
def server(serve: Callable[..., LocalServer]) -> LocalServer:
    return serve(admin=True, transition="immediate")


@pytest.fixture
def api(server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=30) as c:
        yield c
        # The server still serves on a fresh connection: a 500 would have closed this one mid-keep-alive.
        assert c.get("/v1/voices").status_code == 200


@pytest.mark.parametrize("limit", ["²", "1²", "٣", "１"])
def test_a_limit_of_unicode_digits_is_a_400_not_a_500(api: httpx.Client, limit: str) -> None:
    """str.isdigit() admits '²' (int() refuses it: a 500) and '٣' (int() takes it): only ASCII digits count."""
    assert_api_error(api.get("/v1/models", params={"limit": limit}), 400, "invalid_limit")


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("/v1/text-to-speech", "POST", b'{"text": "hi", "voice": "custom-\\ud800"}'),  # SQLite cannot encode it
        ("/v1/text-to-speech", "POST", b'{"text": "hi \\udfff there", "voice": "en-us-male-1"}'),  # engine's error leaked
        ("/v1/text-to-speech", "POST", b'{"text": "hi", "voice": "en-us-male-1", "\\ud800": 1}'),
        ("/_admin/faults", "PUT", b'{"paths": ["/\\ud800"]}'),  # stored, then GET /_admin/state was a 500
        ("/_admin/transition", "PUT", b'{"progression": "fail", "reason": "\\udbff"}'),
    ],
)
def test_unpaired_surrogate_escapes_in_json_are_a_400(api: httpx.Client, path: str, method: str, body: bytes) -> None:
    r = api.request(method, path, content=body, headers={"Content-Type": "application/json"})
    error = assert_api_error(r, 400, "invalid_json")
    assert "UTF-8" in error["message"]
    assert api.get("/_admin/state").status_code == 200  # nothing unencodable was stored


def test_a_valid_surrogate_pair_is_just_an_emoji(api: httpx.Client) -> None:
    r = api.post("/v1/text-to-speech", content=b'{"text": "Hello \\ud83d\\ude00 there", "voice": "en-us-male-1"}')
    assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg"


def test_a_symlink_planted_at_a_samples_path_is_not_followed(server: LocalServer, api: httpx.Client, speech_mp3: bytes,
                                                             tmp_path: Path) -> None:
    """FileResponse followed a link at samples/<token>.mp3 and served whatever it pointed at, outside the data dir."""
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the network")
    created = api.post("/v1/voice-clone", files={"audio": ("a.mp3", speech_mp3)}, data={"name": "Linked"}).json()
    url = api.get(f"/v1/models/{created['model_id']}").json()["samples"][0]["audio_url"]
    path = server.data_dir / "samples" / (url.rsplit("/", 1)[1])
    assert httpx.get(url).status_code == 200
    path.unlink()
    path.symlink_to(secret)
    r = httpx.get(url)
    assert r.status_code == 404 and "not for the network" not in r.text
    assert_api_error(r, 404, "sample_not_ready")
