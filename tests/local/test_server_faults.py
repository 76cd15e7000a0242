"""Fault injection: each kind at rate 1.0, seeded rates, path filters, and what is never faulted."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from speechgen_jupyter.local import LocalServer

from .helpers import api_client, assert_error, clone


@pytest.fixture(scope="module")
def faulty(serve) -> LocalServer:  # type: ignore[no-untyped-def]
    return serve(admin=True, transition="immediate")


@pytest.fixture
def api(faulty: LocalServer) -> Iterator[httpx.Client]:
    with api_client(faulty) as client:
        yield client
        client.put("/_admin/faults", json={})  # faults off after each test


def set_faults(api: httpx.Client, **config: object) -> None:
    r = api.put("/_admin/faults", json=config)
    assert r.status_code == 200, r.text


def count_models(api: httpx.Client) -> int:
    return sum(api.get("/_admin/state").json()["models"].values())


@pytest.mark.parametrize(("kind", "code"), [("429", "rate_limited"), ("500", "internal_error"), ("502", "bad_gateway"), ("503", "service_unavailable"), ("504", "gateway_timeout")])
def test_each_status_fault_at_rate_one(api: httpx.Client, kind: str, code: str) -> None:
    set_faults(api, rate=1.0, kinds=[kind], retry_after=3)
    for method, path in [("GET", "/v1/models"), ("GET", "/v1/voices"), ("POST", "/v1/text-to-speech")]:
        r = api.request(method, path, json={"text": "hi", "voice": "en-us-male-1"})
        assert_error(r, int(kind), code)
        if kind in ("429", "503"):
            assert r.headers["retry-after"] == "3"
        else:
            assert "retry-after" not in r.headers


def test_slow_fault_delays_then_serves(api: httpx.Client) -> None:
    set_faults(api, rate=1.0, kinds=["slow"], slow_seconds=0.6)
    started = time.monotonic()
    r = api.get("/v1/voices")
    assert r.status_code == 200 and r.json()["voices"]
    assert time.monotonic() - started >= 0.6


def test_drop_closes_the_connection_before_processing(api: httpx.Client, speech_mp3: bytes) -> None:
    before = count_models(api)
    set_faults(api, rate=1.0, kinds=["drop"], paths=["/v1/"])
    with pytest.raises(httpx.TransportError):
        api.get("/v1/voices")
    with pytest.raises(httpx.TransportError):
        clone(api, speech_mp3, "dropped")
    set_faults(api)
    assert count_models(api) == before, "a request dropped before processing changes nothing"


def test_drop_after_processes_the_request_and_loses_the_response(api: httpx.Client, speech_mp3: bytes) -> None:
    before = count_models(api)
    set_faults(api, rate=1.0, kinds=["drop_after"], paths=["/v1/voice-clone"])
    with pytest.raises(httpx.TransportError):
        clone(api, speech_mp3, "response lost")
    set_faults(api)
    assert count_models(api) == before + 1, "the model was created although the client never heard of it"
    names = [m["name"] for m in api.get("/v1/models").json()["models"]]
    assert "response lost" in names


def test_the_connection_is_usable_again_after_a_drop(api: httpx.Client) -> None:
    set_faults(api, rate=1.0, kinds=["drop"], paths=["/v1/voices"])
    for _ in range(3):
        with pytest.raises(httpx.TransportError):
            api.get("/v1/voices")
        assert api.get("/v1/models").status_code == 200  # same client, new connection


def sequence(api: httpx.Client, n: int = 60) -> list[int]:
    return [api.get("/v1/models").status_code for _ in range(n)]


def test_seeded_rate_is_reproducible_and_near_the_rate(api: httpx.Client) -> None:
    set_faults(api, rate=0.3, kinds=["503", "429"], seed=42, retry_after=0)
    first = sequence(api)
    set_faults(api, rate=0.3, kinds=["503", "429"], seed=42, retry_after=0)
    second = sequence(api)
    assert first == second, "the same seed gives the same faults, request by request"
    faults = sum(s != 200 for s in first)
    assert 8 <= faults <= 30, faults  # 60 draws at 0.3: 18 expected
    assert {503, 429} <= set(first)
    set_faults(api, rate=0.3, kinds=["503", "429"], seed=43, retry_after=0)
    assert sequence(api) != first


def test_faults_via_start_options(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve(faults={"rate": 1.0, "kinds": ["503"], "retry_after": 1})
    with api_client(server) as api:
        r = api.get("/v1/models")
        assert_error(r, 503, "service_unavailable")
        assert r.headers["retry-after"] == "1"


def test_paths_filter_limits_faults(api: httpx.Client) -> None:
    set_faults(api, rate=1.0, kinds=["503"], paths=["/v1/text-to-speech"])
    assert api.get("/v1/models").status_code == 200
    assert api.post("/v1/text-to-speech", json={"text": "hi", "voice": "en-us-male-1"}).status_code == 503


def test_admin_and_openapi_are_never_faulted(api: httpx.Client, faulty: LocalServer) -> None:
    set_faults(api, rate=1.0, kinds=["503", "drop", "drop_after"], seed=1)
    considered = api.get("/_admin/state").json()["fault_stats"].get("considered", 0)
    for _ in range(10):
        assert api.get("/_admin/state").status_code == 200
        assert httpx.get(faulty.base_url + "/openapi.json").status_code == 200
    assert api.get("/_admin/state").json()["fault_stats"].get("considered", 0) == considered
    try:  # while the API itself is faulted
        assert api.get("/v1/voices").status_code == 503
    except httpx.TransportError:
        pass
    assert api.get("/_admin/state").json()["fault_stats"]["considered"] == considered + 1


def test_fault_stats_count_each_kind(api: httpx.Client) -> None:
    set_faults(api, rate=1.0, kinds=["429"], retry_after=0)
    before = api.get("/_admin/state").json()["fault_stats"].get("429", 0)
    for _ in range(5):
        api.get("/v1/models")
    assert api.get("/_admin/state").json()["fault_stats"]["429"] == before + 5


@pytest.mark.parametrize("body", [{"rate": 1.5}, {"rate": 0.5, "kinds": []}, {"rate": 0.5, "kinds": ["404"]}, {"retry_after": 1.5}, {"paths": ["v1"]}, {"unknown": 1}])
def test_admin_refuses_invalid_fault_settings(api: httpx.Client, body: dict) -> None:
    assert_error(api.put("/_admin/faults", json=body), 400, "invalid_faults")
