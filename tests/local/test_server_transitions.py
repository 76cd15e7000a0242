"""moto-style state control: real, immediate, time, polls, fail; set by start() and by the admin route."""

from __future__ import annotations

import time

import httpx
import pytest

from speechgen_jupyter.local import LocalServer

from .helpers import api_client, assert_error, clone


def wait_until_settled(api: httpx.Client, model_id: str, deadline: float = 60.0) -> tuple[dict, int]:
    """Poll like a client would; returns the settled model and how many GETs it took."""
    end = time.monotonic() + deadline
    polls = 0
    while True:
        polls += 1
        model = api.get(f"/v1/models/{model_id}").json()
        if model["status"] != "processing" or time.monotonic() > end:
            return model, polls
        time.sleep(0.05)


def test_real_progression_turns_ready_when_the_worker_finishes(serve, speech_mp3: bytes) -> None:  # type: ignore[no-untyped-def]
    server = serve()  # default: real
    with api_client(server) as api:
        created = clone(api, speech_mp3).json()
        assert created["status"] == "processing"
        model, _ = wait_until_settled(api, created["model_id"])
        assert model["status"] == "ready" and model["voice_id"].startswith("custom-")


def test_immediate_reads_ready_on_the_first_fetch_and_the_voice_works(serve, speech_mp3: bytes) -> None:  # type: ignore[no-untyped-def]
    server = serve(transition="immediate")
    with api_client(server) as api:
        created = clone(api, speech_mp3).json()
        assert created["status"] == "processing"  # the 201 is always processing, as on the page
        model = api.get(f"/v1/models/{created['model_id']}").json()
        assert model["status"] == "ready"
        # Never ready before the profile exists: the voice speaks at once.
        r = api.post("/v1/text-to-speech", json={"text": "Ready means usable.", "voice": model["voice_id"]})
        assert r.status_code == 200


def test_time_progression_is_ready_no_sooner_than_asked(serve, speech_mp3: bytes) -> None:  # type: ignore[no-untyped-def]
    server = serve(transition={"progression": "time", "seconds": 2.5})
    with api_client(server) as api:
        started = time.monotonic()
        created = clone(api, speech_mp3).json()
        first = api.get(f"/v1/models/{created['model_id']}").json()
        assert first["status"] == "processing" and "voice_id" not in first
        assert created["estimated_completion"] >= created["created_at"]
        model, _ = wait_until_settled(api, created["model_id"])
        assert model["status"] == "ready"
        assert time.monotonic() - started >= 2.5


def test_polls_progression_is_ready_on_the_nth_get(serve, speech_mp3: bytes) -> None:  # type: ignore[no-untyped-def]
    server = serve(transition={"progression": "polls", "times": 3})
    with api_client(server) as api:
        model_id = clone(api, speech_mp3).json()["model_id"]
        statuses = [api.get(f"/v1/models/{model_id}").json()["status"] for _ in range(4)]
        assert statuses == ["processing", "processing", "ready", "ready"]
        # Listing is not polling the model: it neither counts nor hides a ready model after the Nth GET.
        second = clone(api, speech_mp3).json()["model_id"]
        for _ in range(5):
            listed = {m["model_id"]: m["status"] for m in api.get("/v1/models").json()["models"]}
        assert listed[second] == "processing"
        assert [api.get(f"/v1/models/{second}").json()["status"] for _ in range(3)] == ["processing", "processing", "ready"]


def test_fail_progression_fails_with_the_given_reason(serve, speech_mp3: bytes) -> None:  # type: ignore[no-untyped-def]
    server = serve(transition={"progression": "fail", "reason": "Simulated: the GPU caught fire.", "code": "gpu_on_fire"})
    with api_client(server) as api:
        created = clone(api, speech_mp3).json()
        model = api.get(f"/v1/models/{created['model_id']}").json()
        assert model["status"] == "failed"
        assert model["error"] == {"code": "gpu_on_fire", "message": "Simulated: the GPU caught fire."}
        assert "voice_id" not in model
        assert_error(httpx.get(created["samples"][0]["audio_url"]), 404, "sample_not_ready")


def test_default_fail_code_is_clone_failed(serve, speech_mp3: bytes) -> None:  # type: ignore[no-untyped-def]
    server = serve(transition={"progression": "fail"})
    with api_client(server) as api:
        model = api.get(f"/v1/models/{clone(api, speech_mp3).json()['model_id']}").json()
        assert model["status"] == "failed" and model["error"]["code"] == "clone_failed" and model["error"]["message"]


# -- the admin route ---------------------------------------------------------------------------


def test_admin_transition_applies_to_new_models_only(server: LocalServer, api: httpx.Client, speech_mp3: bytes) -> None:
    r = api.put("/_admin/transition", json={"progression": "polls", "times": 2})
    assert r.status_code == 200 and r.json() == {"transition": {"progression": "polls", "times": 2}}
    try:
        assert api.get("/_admin/state").json()["transition"] == {"progression": "polls", "times": 2}
        under_polls = clone(api, speech_mp3).json()["model_id"]
        api.put("/_admin/transition", json={"progression": "fail", "reason": "switched"})
        under_fail = clone(api, speech_mp3).json()["model_id"]
        assert [api.get(f"/v1/models/{under_polls}").json()["status"] for _ in range(2)] == ["processing", "ready"]
        assert api.get(f"/v1/models/{under_fail}").json()["error"]["message"] == "switched"
    finally:
        api.put("/_admin/transition", json={"progression": "immediate"})


@pytest.mark.parametrize(
    "body",
    [
        {"progression": "eventually"},
        {"progression": "time", "seconds": -1},
        {"progression": "time", "seconds": "soon"},
        {"progression": "polls", "times": 0},
        {"progression": "polls", "times": 2.5},
        {"progression": "fail", "reason": ""},
        {"progression": "immediate", "seconds": 3},
    ],
)
def test_admin_refuses_invalid_transitions(api: httpx.Client, body: dict) -> None:
    assert_error(api.put("/_admin/transition", json=body), 400, "invalid_transition")
    assert api.get("/_admin/state").json()["transition"] == {"progression": "immediate"}


def test_admin_state_and_reset(serve, speech_mp3: bytes) -> None:  # type: ignore[no-untyped-def]
    server = serve(admin=True, transition={"progression": "polls", "times": 5}, faults={"rate": 0.0})
    with api_client(server) as api:
        clone(api, speech_mp3)
        api.put("/_admin/transition", json={"progression": "immediate"})
        api.put("/_admin/faults", json={"rate": 0.5, "kinds": ["503"], "paths": ["/v1/voices"]})
        state = api.get("/_admin/state").json()
        assert sum(state["models"].values()) == 1  # stored status: processing or (worker done) ready
        assert state["transition"] == {"progression": "immediate"}
        assert state["faults"]["rate"] == 0.5
        r = api.post("/_admin/reset")
        assert r.status_code == 200
        state = r.json()
        assert state["models"] == {"processing": 0, "ready": 0, "failed": 0}
        assert state["transition"] == {"progression": "polls", "times": 5}, "reset returns to the start options"
        assert state["faults"]["rate"] == 0.0
        assert api.get("/v1/models").json() == {"models": [], "next_cursor": None}


def test_admin_routes_do_not_exist_unless_asked_for(serve) -> None:  # type: ignore[no-untyped-def]
    plain = serve()
    with api_client(plain) as api:
        for method, path in [("GET", "/_admin/state"), ("PUT", "/_admin/transition"), ("PUT", "/_admin/faults"), ("POST", "/_admin/reset")]:
            assert_error(api.request(method, path, json={"progression": "fail"}), 404, "not_found")
    # and with admin on, they still need the key
    admin = serve(admin=True)
    assert_error(httpx.get(admin.base_url + "/_admin/state"), 401, "missing_api_key")
