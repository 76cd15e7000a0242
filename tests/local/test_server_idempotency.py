"""Idempotency-Key on POST /v1/voice-clone: a retry whose first response was lost never makes a second model."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from speechgen_jupyter.local import LocalServer

from .helpers import api_client, assert_error, clone


@pytest.fixture(scope="module")
def idem_server(serve) -> LocalServer:  # type: ignore[no-untyped-def]
    # Models fail at once: these tests are about rows, not voices, so no CPU goes to cloning.
    return serve(admin=True, transition={"progression": "fail", "reason": "not needed here"})


@pytest.fixture
def api(idem_server: LocalServer) -> Iterator[httpx.Client]:
    with api_client(idem_server) as client:
        yield client
        client.put("/_admin/faults", json={})


def count(api: httpx.Client) -> int:
    return len(api.get("/v1/models?limit=100").json()["models"])


def test_the_same_key_returns_the_same_model(api: httpx.Client, speech_mp3: bytes) -> None:
    before = count(api)
    first = clone(api, speech_mp3, "Once", headers={"Idempotency-Key": "key-same-1"})
    second = clone(api, speech_mp3, "Once", headers={"Idempotency-Key": "key-same-1"})
    assert first.status_code == second.status_code == 201
    assert first.json()["model_id"] == second.json()["model_id"]
    assert first.json()["created_at"] == second.json()["created_at"]
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert count(api) == before + 1
    third = clone(api, speech_mp3, "Once", headers={"Idempotency-Key": "key-same-2"})
    assert third.json()["model_id"] != first.json()["model_id"]
    assert count(api) == before + 2


def test_reusing_a_key_for_a_different_request_is_a_409(api: httpx.Client, speech_mp3: bytes, other_speech_mp3: bytes) -> None:
    made = clone(api, speech_mp3, "Original", headers={"Idempotency-Key": "key-reuse"}).json()["model_id"]
    before = count(api)
    for audio, name, extra in [(other_speech_mp3, "Original", {}), (speech_mp3, "Renamed", {}), (speech_mp3, "Original", {"enhance_quality": "true"})]:
        err = assert_error(clone(api, audio, name, headers={"Idempotency-Key": "key-reuse"}, **extra), 409, "idempotency_key_reused")
        assert made in err["message"]
    assert count(api) == before


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "tab\there", "ünïcode"])
def test_invalid_keys_are_refused(api: httpx.Client, speech_mp3: bytes, key: str) -> None:
    before = count(api)
    r = api.post(
        "/v1/voice-clone",
        files={"audio": ("a.mp3", speech_mp3)},
        data={"name": "bad key"},
        headers={"Idempotency-Key": key.encode("utf-8")},  # type: ignore[dict-item]
    )
    assert_error(r, 400, "invalid_idempotency_key")
    assert count(api) == before


def test_concurrent_requests_with_one_key_make_one_model(api: httpx.Client, idem_server: LocalServer, speech_mp3: bytes) -> None:
    before = count(api)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def attempt() -> None:
        with api_client(idem_server) as own:
            r = clone(own, speech_mp3, "Raced", headers={"Idempotency-Key": "key-race"})
        with lock:
            results.append(r)

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [201] * 6
    assert len({r.json()["model_id"] for r in results}) == 1
    assert count(api) == before + 1


def test_a_lost_response_is_safe_to_retry(api: httpx.Client, speech_mp3: bytes) -> None:
    before = count(api)
    api.put("/_admin/faults", json={"rate": 1.0, "kinds": ["drop_after"], "paths": ["/v1/voice-clone"]})
    with pytest.raises(httpx.TransportError):
        clone(api, speech_mp3, "Lost", headers={"Idempotency-Key": "key-lost"})
    assert count(api) == before + 1  # it was made; the client just never heard
    api.put("/_admin/faults", json={})
    retry = clone(api, speech_mp3, "Lost", headers={"Idempotency-Key": "key-lost"})
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["name"] == "Lost"
    assert count(api) == before + 1


def test_retrying_through_random_faults_makes_exactly_one_model(api: httpx.Client, speech_mp3: bytes) -> None:
    """What a client's retry loop does against a flaky network: one key, many attempts, one model."""
    before = count(api)
    api.put(
        "/_admin/faults",
        json={"rate": 0.6, "kinds": ["drop", "drop_after", "503", "429"], "seed": 7, "retry_after": 0, "paths": ["/v1/voice-clone"]},
    )
    outcomes = []
    for _ in range(30):
        try:
            r = clone(api, speech_mp3, "Flaky", headers={"Idempotency-Key": "key-flaky"})
        except httpx.TransportError:
            outcomes.append("transport")
            continue
        outcomes.append(r.status_code)
        if r.status_code == 201:
            break
    assert outcomes[-1] == 201, outcomes
    assert len(outcomes) > 1, "the seed makes the first attempts fail"
    api.put("/_admin/faults", json={})
    assert count(api) == before + 1


def test_deleting_the_model_frees_its_key(api: httpx.Client, speech_mp3: bytes) -> None:
    first = clone(api, speech_mp3, "Short-lived", headers={"Idempotency-Key": "key-freed"}).json()["model_id"]
    assert api.delete(f"/v1/models/{first}").status_code == 204
    again = clone(api, speech_mp3, "Short-lived", headers={"Idempotency-Key": "key-freed"})
    assert again.status_code == 201 and again.json()["model_id"] != first
    assert "idempotent-replayed" not in again.headers
