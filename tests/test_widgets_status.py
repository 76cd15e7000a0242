"""The status panel against the real local server: a background thread follows a model to ready
(progress from the server's estimate, samples playable) or failed (with the reason), and stops
when the panel is closed."""

from __future__ import annotations

import threading

from widgets_helpers import wait_until

from speechgen_jupyter.widgets import StatusWidget

pytest_plugins = ["widgets_env"]


def test_processing_to_ready_with_progress_and_playable_samples(client, admin, sample_mp3, closing) -> None:
    admin.transition({"progression": "time", "seconds": 2.0})
    model = client.clone_voice(sample_mp3, "Timed", filename="timed.mp3")
    values: list[float] = []
    status = StatusWidget(model, client, start=False)
    closing(status)
    status.bar.observe(lambda change: values.append(change["new"]), names="value")
    finished = []
    status.on_finished(finished.append)
    assert status.state == "processing" and 'data-state="processing"' in status.line.value
    status.start()
    assert status.polling
    caller = threading.current_thread()
    assert status._poller._thread is not caller  # the polling is not this thread's work

    assert status.join(30)
    assert status.state == "ready"
    assert status.bar.value == 1.0 and status.bar.bar_style == "success"
    assert 'data-state="ready"' in status.line.value and status.model.voice_id in status.line.value
    assert values == sorted(values) and values[-1] == 1.0
    assert any(0.0 < v < 1.0 for v in values), values  # the bar moved on the server's estimate before ready
    assert status._poller.polls >= 2
    assert [m.model_id for m in finished] == [model.model_id]
    # The sample is fetched by the kernel and played from widget bytes.
    (sample,) = status.model.samples
    assert status.samples[0].data == client.sample_audio(sample, status.model).data
    (player,) = status.players.children
    assert player.audio == status.samples[0].data and not player.autoplay


def test_failed_shows_the_reason_and_reports_finished(client, admin, sample_mp3, closing, page_only) -> None:
    admin.transition({"progression": "fail", "reason": "Background music drowns the voice.", "code": "too_noisy"})
    model = client.clone_voice(sample_mp3, "Noisy", filename="noisy.mp3")
    finished = []
    status = closing(StatusWidget(model.model_id, client))
    status.on_finished(finished.append)
    assert status.join(30)
    assert status.state == "failed" and status.bar.bar_style == "danger"
    if page_only:  # the page says only "failed": the reason is this project's extra
        assert status.notice.text == "Cloning failed: the server gave no reason"
        assert finished and finished[0].is_failed and finished[0].error is None
    else:
        assert status.notice.text == "Cloning failed: Background music drowns the voice."
        assert finished and finished[0].is_failed and finished[0].error.code == "too_noisy"
    assert status.players.children == ()


def test_closing_the_panel_stops_polling_at_once(client, admin, sample_mp3) -> None:
    admin.transition({"progression": "time", "seconds": 600})
    model = client.clone_voice(sample_mp3, "Slow", filename="slow.mp3")
    status = StatusWidget(model, client)
    wait_until(lambda: status._poller.polls >= 1, what="the first poll")
    status.close()
    assert status.join(2.0), "the polling thread outlived the widget"
    assert not status.polling  # a finished thread sends no more requests
    assert status.state == "processing"  # closed, not told anything new


def test_a_timeout_says_so_and_check_again_resumes(client, admin, sample_mp3, closing) -> None:
    admin.transition({"progression": "time", "seconds": 1.5})
    model = client.clone_voice(sample_mp3, "Patient", filename="patient.mp3")
    status = closing(StatusWidget(model, client, timeout=0.3))
    assert status.join(10)
    assert status.state == "stopped" and status.notice.level == "warning"
    assert "still 'processing' after 0.3 s" in status.notice.text
    assert status.check_again.layout.display == ""
    status.timeout = 30
    status.check_again.click()
    assert status.join(30)
    assert status.state == "ready" and status.check_again.layout.display == "none"


def test_an_unreachable_server_is_shown_in_the_panel(wserver, sample_mp3, closing) -> None:
    import speechgen_jupyter as sg
    from speechgen_jupyter.local import start

    with start(transition={"progression": "time", "seconds": 3}) as other:
        c = sg.Client(api_key=other.api_key, base_url=other.base_url, max_retries=0)
        model = c.clone_voice(sample_mp3, "Gone", filename="gone.mp3")
        status = closing(StatusWidget(model, c))
        wait_until(lambda: status._poller.polls >= 1, what="the first poll")
    # The server is gone; the next poll fails.
    assert status.join(30)
    assert status.state == "stopped" and status.notice.level == "error"
    assert "Details" not in status.notice.value  # a connection error is the user's to act on, not a bug
    assert status.check_again.layout.display == ""
