"""The (ours) concurrency quota (`max_in_flight`) and the admin request log that tests count with."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from speechgen_jupyter.local import LocalServer

from .helpers import api_client, assert_error

TTS = {"text": "Hello there.", "voice": "en-us-male-1", "format": "mp3"}


@pytest.fixture(scope="module")
def limited(serve) -> LocalServer:  # type: ignore[no-untyped-def]
    return serve(admin=True, transition="immediate")


@pytest.fixture
def api(limited: LocalServer) -> Iterator[httpx.Client]:
    with api_client(limited) as client:
        client.post("/_admin/reset").raise_for_status()
        yield client
        client.post("/_admin/reset").raise_for_status()


def test_requests_beyond_max_in_flight_get_429_with_retry_after(api: httpx.Client, limited: LocalServer) -> None:
    # Each request is held 0.5 s, so five sent together overlap: two are served, three refused at once.
    r = api.put("/_admin/faults", json={"rate": 1.0, "kinds": ["slow"], "slow_seconds": 0.5, "max_in_flight": 2, "retry_after": 2})
    assert r.status_code == 200 and r.json()["faults"]["max_in_flight"] == 2
    with ThreadPoolExecutor(5) as pool, api_client(limited) as other:
        answers = list(pool.map(lambda _: other.post("/v1/text-to-speech", json=TTS), range(5)))
    ok = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(ok) == 2 and len(refused) == 3
    for answer in refused:
        assert_error(answer, 429, "too_many_concurrent_requests")
        assert answer.headers["retry-after"] == "2"
        assert answer.elapsed.total_seconds() < 0.4  # refused on arrival, not after being held
    stats = api.get("/_admin/state").json()["fault_stats"]
    assert stats["over_limit"] == 3 and stats["peak_in_flight"] == 2
    # Once they are done, the quota is free again.
    api.put("/_admin/faults", json={"max_in_flight": 2}).raise_for_status()
    assert api.post("/v1/text-to-speech", json=TTS).status_code == 200


def test_max_in_flight_follows_the_paths_filter(api: httpx.Client) -> None:
    api.put("/_admin/faults", json={"max_in_flight": 1, "paths": ["/v1/voice-clone"]}).raise_for_status()
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: api.post("/v1/text-to-speech", json=TTS), range(3)))
    assert [a.status_code for a in answers] == [200, 200, 200]


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "4"])
def test_invalid_max_in_flight_is_refused(api: httpx.Client, value: object) -> None:
    r = api.put("/_admin/faults", json={"max_in_flight": value})
    error = assert_error(r, 400, "invalid_faults")
    assert "max_in_flight" in error["message"]


def test_the_request_log_records_every_request_as_it_arrives(api: httpx.Client, limited: LocalServer) -> None:
    before = time.time()
    api.get("/v1/voices").raise_for_status()
    api.post("/v1/text-to-speech", json=TTS).raise_for_status()
    api.post("/v1/text-to-speech", json={**TTS, "voice": "no-such-voice"})
    with httpx.Client(base_url=limited.base_url) as anonymous:  # refused by auth: still received
        anonymous.get("/v1/voices")
    log = api.get("/_admin/requests").json()
    assert [(e["method"], e["path"], e["status"]) for e in log["requests"]] == [
        ("GET", "/v1/voices", 200),
        ("POST", "/v1/text-to-speech", 200),
        ("POST", "/v1/text-to-speech", 404),
        ("GET", "/v1/voices", 401),
    ]
    assert all(before <= e["at"] <= time.time() for e in log["requests"])
    assert log["counts"] == {"GET /v1/voices": 2, "POST /v1/text-to-speech": 2}  # admin reads are not counted
    only_tts = api.get("/_admin/requests", params={"path": "/v1/text-to-speech", "since": log["requests"][1]["seq"]}).json()
    assert [e["status"] for e in only_tts["requests"]] == [404]
    assert api.post("/_admin/reset").status_code == 200
    assert api.get("/_admin/requests").json()["counts"] == {}


def test_requests_refused_by_faults_are_logged_too(api: httpx.Client) -> None:
    api.put("/_admin/faults", json={"rate": 1.0, "kinds": ["503"]}).raise_for_status()
    api.post("/v1/text-to-speech", json=TTS)
    assert [e["status"] for e in api.get("/_admin/requests").json()["requests"]] == [503]


def test_no_request_log_without_admin(serve) -> None:  # type: ignore[no-untyped-def]
    plain = serve(transition="immediate")
    with api_client(plain) as client:
        assert client.get("/_admin/requests").status_code == 404
