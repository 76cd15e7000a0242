"""wait_for_model: adaptive polling, failure with the server's reason, timeouts, progress."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

import speechgen_jupyter as sg
from speechgen_jupyter import _constants as C


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ModelSequence:
    """A fake server whose model moves through given statuses, one per poll."""

    def __init__(
        self,
        *statuses: str,
        eta_seconds: float | None = 3.0,
        error: dict | None = None,
        slept: list[float] | None = None,
    ) -> None:
        self.statuses = list(statuses)
        self.polls = 0
        self.eta_seconds = eta_seconds
        self.error = error
        # When the client's sleeps are recorded instead of waited, virtual
        # time is what it slept: the server's clock moves by that much.
        self.slept = slept if slept is not None else []
        self.created = datetime.now(timezone.utc)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        status = self.statuses[min(self.polls, len(self.statuses) - 1)]
        self.polls += 1
        shift = timedelta(seconds=sum(self.slept))
        created = self.created - shift  # as seen from the client's real clock
        body = {"model_id": "vm_1", "name": "Me", "status": status, "created_at": iso(created), "usage_count": 0}
        if self.eta_seconds is not None:
            body["estimated_completion"] = iso(created + timedelta(seconds=self.eta_seconds))
        if status == "ready":
            body["voice_id"] = "custom-1"
        if status == "failed" and self.error:
            body["error"] = self.error
        return httpx.Response(200, json=body)


def test_returns_the_ready_model(make_client, sleeps) -> None:
    server = ModelSequence("processing", "processing", "ready")
    model = make_client(server).wait_for_model("vm_1")
    assert model.is_ready and model.voice_id == "custom-1"
    assert server.polls == 3 and len(sleeps) == 2


def test_polls_sparsely_far_from_the_estimate_and_lands_just_after_it(make_client, sleeps) -> None:
    server = ModelSequence(*(["processing"] * 4), "ready", eta_seconds=8.0, slept=sleeps)
    make_client(server).wait_for_model("vm_1")
    # Half the remaining time (4 s, 2 s), then straight to just past the estimate.
    assert sleeps[:3] == pytest.approx([4.0, 2.0, 2.0 + C.POLL_LAND_MARGIN], abs=0.1)
    assert server.polls == 5  # the 4th poll lands just past the estimate; this fake turns ready on the 5th


def test_an_early_model_is_caught_by_the_halving_polls(make_client, sleeps) -> None:
    server = ModelSequence("processing", "processing", "ready", eta_seconds=20.0, slept=sleeps)
    make_client(server).wait_for_model("vm_1")
    assert sleeps == pytest.approx([C.POLL_MAX_INTERVAL, C.POLL_MAX_INTERVAL], abs=0.1)


def test_past_the_estimate_it_polls_fast_then_backs_off_gently(make_client, sleeps) -> None:
    server = ModelSequence(*(["processing"] * 8), "ready", eta_seconds=-10.0, slept=sleeps)
    make_client(server).wait_for_model("vm_1")
    assert sleeps[0] == C.POLL_MIN_INTERVAL
    assert sleeps == sorted(sleeps)
    assert max(sleeps) <= C.POLL_MAX_INTERVAL / 2


def test_failed_raises_with_the_servers_reason(make_client, sleeps) -> None:
    server = ModelSequence(
        "processing", "failed", error={"code": "clone_failed", "message": "The sample holds two speakers."}
    )
    with pytest.raises(sg.ModelFailedError) as caught:
        make_client(server).wait_for_model("vm_1")
    err = caught.value
    assert err.model_id == "vm_1" and err.code == "clone_failed"
    assert err.reason == "The sample holds two speakers."
    assert "two speakers" in str(err) and "vm_1" in str(err)


def test_times_out_in_real_time_with_a_clear_message(make_client) -> None:
    server = ModelSequence("processing", eta_seconds=None)
    with pytest.raises(sg.TimeoutError, match="still 'processing' after 0.6 s") as caught:
        make_client(server).wait_for_model("vm_1", timeout=0.6)
    assert "wait_for_model('vm_1') again" in str(caught.value)
    assert 2 <= server.polls <= 5


def test_progress_callback_sees_every_poll_and_ends_at_one(make_client, sleeps) -> None:
    server = ModelSequence("processing", "processing", "ready", eta_seconds=4.0, slept=sleeps)
    seen: list[sg.WaitProgress] = []
    make_client(server).wait_for_model("vm_1", on_progress=seen.append)
    assert [p.polls for p in seen] == [1, 2, 3]
    assert all(0.0 <= p.fraction < 1.0 for p in seen[:-1])
    assert seen[-1].fraction == 1.0 and seen[-1].seconds_left == 0.0
    assert 2.0 < seen[0].seconds_left <= 4.0
    assert seen[-1].model.is_ready


def test_accepts_a_model_object(make_client, sleeps) -> None:
    server = ModelSequence("ready")
    model = sg.VoiceModel.from_api({"model_id": "vm_1", "name": "Me", "status": "processing"})
    assert make_client(server).wait_for_model(model).is_ready
