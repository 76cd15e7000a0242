"""Retries, deadlines, idempotency and the error table.

Faults here (a 503 on demand, a connection reset, a clock) are made with
httpx.MockTransport because they must happen at an exact request; the same
behaviour against the real local server with injected faults is in
tests/test_client_local.py.
"""

from __future__ import annotations

import time

import httpx
import pytest

import speechgen_jupyter as sg
from speechgen_jupyter import _constants as C
from speechgen_jupyter._base_client import RetryState, parse_retry_after
from media import make_audio
from fakes import MODEL, Recorder, multipart_fields


def error(status: int, code: str = "x", message: str = "m", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}}, headers=headers)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, sg.BadRequestError),
        (401, sg.AuthenticationError),
        (403, sg.PermissionDeniedError),
        (404, sg.NotFoundError),
        (409, sg.ConflictError),
        (413, sg.PayloadTooLargeError),
        (415, sg.UnsupportedMediaTypeError),
        (422, sg.AudioValidationError),
        (429, sg.RateLimitError),
        (500, sg.ServerError),
        (503, sg.ServerError),
        (418, sg.APIError),
    ],
)
def test_each_status_maps_to_its_error_with_the_servers_words(make_client, status, cls) -> None:
    response = httpx.Response(
        status,
        json={"error": {"code": "some_code", "message": "What went wrong and what to do."}},
        headers={"x-request-id": "req_42"},
    )
    with pytest.raises(cls) as caught:
        make_client(Recorder(response), max_retries=0).get_model("vm_1")
    err = caught.value
    assert type(err) is cls
    assert isinstance(err, sg.SpeechgenError)
    assert (err.status, err.code, err.request_id) == (status, "some_code", "req_42")
    assert err.message.startswith("What went wrong and what to do.")
    assert "req_42" in str(err) and str(status) in str(err)


def test_an_error_body_that_is_not_json_still_reads_well(make_client) -> None:
    server = Recorder(httpx.Response(502, text="<html>Bad gateway</html>"))
    with pytest.raises(sg.ServerError, match="Bad gateway"):
        make_client(server, max_retries=0).get_model("vm_1")


def test_client_errors_other_than_429_are_never_retried(make_client) -> None:
    for status in (400, 401, 404, 409, 413, 415, 422):
        server = Recorder(error(status))
        with pytest.raises(sg.APIError):
            make_client(server, max_retries=5).get_model("vm_1")
        assert len(server.requests) == 1, status


def test_5xx_is_retried_with_exponential_backoff_and_jitter(make_client, sleeps) -> None:
    server = Recorder(error(503), error(500), error(502), httpx.Response(200, json=MODEL))
    model = make_client(server, max_retries=3).get_model("vm_1")
    assert model.model_id == "vm_abc123xyz"
    assert len(server.requests) == 4
    assert len(sleeps) == 3
    for attempt, delay in enumerate(sleeps):
        base = C.INITIAL_RETRY_DELAY * 2**attempt
        assert 0.75 * base <= delay <= base


def test_retry_count_is_configurable_and_the_last_error_is_raised(make_client, sleeps) -> None:
    server = Recorder(error(503, message="Overloaded."))
    with pytest.raises(sg.ServerError, match="Overloaded."):
        make_client(server, max_retries=2).get_model("vm_1")
    assert len(server.requests) == 3


def test_429_honours_retry_after(make_client, sleeps) -> None:
    server = Recorder(error(429, **{"Retry-After": "2"}), httpx.Response(200, json=MODEL))
    make_client(server).get_model("vm_1")
    assert sleeps == [2.0]


def test_a_retry_after_beyond_the_cap_is_not_waited_for(make_client, sleeps) -> None:
    server = Recorder(error(429, message="Slow down.", **{"Retry-After": str(int(C.MAX_RETRY_AFTER) + 600)}))
    with pytest.raises(sg.RateLimitError) as caught:
        make_client(server).get_model("vm_1")
    assert sleeps == []
    assert caught.value.retry_after == pytest.approx(C.MAX_RETRY_AFTER + 600)
    assert "wait a moment" in str(caught.value)


def test_retry_after_as_an_http_date() -> None:
    when = time.time() + 3
    import email.utils

    response = httpx.Response(429, headers={"Retry-After": email.utils.formatdate(when, usegmt=True)})
    assert 1.5 < parse_retry_after(response) <= 3.0


@pytest.mark.parametrize(
    "fault",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
def test_transport_failures_are_retried_then_wrapped(make_client, sleeps, fault) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise fault

    with pytest.raises((sg.ConnectionError, sg.TimeoutError)) as caught:
        make_client(handler, max_retries=2).get_model("vm_1")
    assert len(calls) == 3
    assert caught.value.__cause__ is fault
    assert "tried 3 times" in str(caught.value)
    assert ".." not in str(caught.value)
    expected = sg.TimeoutError if isinstance(fault, httpx.TimeoutException) else sg.ConnectionError
    assert type(caught.value) is expected


def test_the_deadline_bounds_the_whole_call_in_real_time(make_client) -> None:
    """Retries never multiply the wait: 0.8 s of deadline means about 0.8 s, whatever max_retries says."""
    server = Recorder(error(503, message="Still down."))
    started = time.monotonic()
    with pytest.raises(sg.ServerError, match="Still down."):
        make_client(server, max_retries=50, deadline=0.8).get_model("vm_1")
    took = time.monotonic() - started
    assert took < 0.8 + 0.3
    assert 2 <= len(server.requests) <= 4  # 0.5 s then 1 s backoff: the second would cross the deadline


def test_retry_state_gives_up_rather_than_sleep_past_the_deadline() -> None:
    now = [0.0]
    state = RetryState(max_retries=10, deadline=3.0, clock=lambda: now[0])
    delays = []
    while (delay := state.next_delay()) is not None:
        delays.append(delay)
        now[0] += delay
    assert sum(delays) < 3.0
    assert state.attempt_timeout(httpx.Timeout(60)).read <= 3.0 - sum(delays) + 1e-9


def test_idempotency_key_is_made_once_per_call_and_reused_on_its_retries(make_client, sleeps) -> None:
    sample = make_audio("wav", 11.0)
    server = Recorder(error(503), error(429, **{"Retry-After": "0"}), httpx.Response(201, json=MODEL))
    client = make_client(server)

    client.clone_voice(sample, "Me")
    keys = {r.headers["idempotency-key"] for r in server.requests}
    assert len(server.requests) == 3 and len(keys) == 1
    assert all(multipart_fields(r)["audio"] == sample for r in server.requests)
    assert all(multipart_fields(r)["name"] == b"Me" for r in server.requests)

    server.requests.clear()
    server.responses = [httpx.Response(201, json=MODEL)]
    client.clone_voice(sample, "Me")
    assert server.requests[0].headers["idempotency-key"] not in keys  # a new call is a new key


def test_a_lost_response_to_an_upload_is_retried_with_the_same_key(make_client, sleeps) -> None:
    """The failure idempotency keys exist for: the server made the model, the answer never arrived."""
    created: dict[str, dict] = {}
    attempts = []

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["idempotency-key"]
        attempts.append(key)
        first_time = key not in created
        created.setdefault(key, dict(MODEL, model_id=f"vm_{len(created)}"))
        if first_time:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(201, json=created[key])

    model = make_client(handler).clone_voice(make_audio("wav", 11.0), "Me")
    assert len(attempts) == 2 and attempts[0] == attempts[1]
    assert len(created) == 1 and model.model_id == "vm_0"
