"""The upload widget against the real local server: checks before sending, one request per click,
errors inside the widget, and no sample bytes left in widget state."""

from __future__ import annotations

import logging

import pytest
from ipywidgets import FileUpload
from media import make_audio, speech_file
from widgets_helpers import holds_bytes, pick, saved_widget_state, wait_until

from speechgen_jupyter.errors import AudioValidationError
from speechgen_jupyter.widgets import StatusWidget, UploadWidget

pytest_plugins = ["widgets_env"]


def checks_of(upload: UploadWidget) -> dict[str, str]:
    return {c.label: ("ok" if c.ok else "bad" if c.ok is False else "unknown") for c in upload.assessment.checks}


def test_a_good_sample_shows_length_size_format_and_waveform_and_enables_clone(client, sample_mp3, closing) -> None:
    upload = closing(UploadWidget(client))
    assert upload.clone_button.disabled  # nothing picked yet
    pick(upload.picker, sample_mp3, "narrator.mp3")

    assert upload.sample == sample_mp3 and upload.filename == "narrator.mp3"
    assert checks_of(upload) == {"Length": "ok", "Format": "ok", "Size": "ok"}
    shown = upload.checks.value
    assert "12.0 s" in shown and "MP3" in shown and "kB" in shown and "needs 10 s to 5 min" in shown
    assert "meets the requirements" in shown and 'data-ok="true"' in shown
    assert not upload.clone_button.disabled
    # Then, measured in a thread: the waveform (a picture: numbers only) with all of it selected, and the report.
    assert upload.measuring.wait(60) and upload.report is not None
    selector = upload.selector
    assert abs(selector.duration - 12.0) < 0.05 and (selector.start, selector.end) == (0.0, selector.duration)
    assert len(selector.peaks) == 2 * 600 and max(selector.peaks) > 0.3 and min(selector.peaks) < -0.3
    assert selector.speech_start is not None and selector.speech_start < 0.5
    assert upload.editor.layout.display == "" and 'class="sg-report"' in upload.report_view.value
    assert upload.report.finding("speech").level == "advice"  # 12 s of speech: 30 s or more is better
    assert client.requests == []  # looking at a sample sends nothing


def test_picked_bytes_leave_widget_state_at_once(client, sample_mp3, closing) -> None:
    # The check can fail: a plain FileUpload keeps the file in its state, and the probe finds it there.
    plain = closing(FileUpload())
    pick(plain, sample_mp3, "narrator.mp3")
    assert holds_bytes(saved_widget_state(), sample_mp3)
    plain.close()

    upload = closing(UploadWidget(client))
    pick(upload.picker, sample_mp3, "narrator.mp3")
    assert upload.picker.value == ()
    assert upload.picker.get_state()["value"] == []
    assert not holds_bytes(saved_widget_state(), sample_mp3)
    assert upload.sample == sample_mp3  # held by the Python object only


def _too_big() -> bytes:
    return make_audio("wav", 345.0, "tone")  # 11 MB of 16 kHz PCM, and too long as well


BAD_SAMPLES = {
    "too short": (lambda: speech_file("mp3", 4.0), "short.mp3", "Length", "4.0 seconds long"),
    "not audio": (lambda: b"Dear diary, today I recorded nothing at all.\n" * 20, "diary.mp3", "Format", "is not audio"),
    "too big": (_too_big, "huge.wav", "Size", "the limit is 10 MB"),
}


@pytest.mark.parametrize("case", list(BAD_SAMPLES))
def test_a_bad_sample_is_explained_and_nothing_is_sent(case, client, admin, closing) -> None:
    make, name, failing, words = BAD_SAMPLES[case]
    data = make()
    models_before = admin.models()
    upload = closing(UploadWidget(client))
    upload.name.value = "Should not exist"
    pick(upload.picker, data, name)

    assert checks_of(upload)[failing] == "bad"
    assert upload.assessment.problem and words in upload.assessment.problem
    assert 'class="sg-problem"' in upload.checks.value and words in upload.checks.value
    assert upload.clone_button.disabled
    # Even a click that got through (the button was disabled in the browser) sends nothing.
    upload.clone_button.click()
    assert not upload.busy.active
    assert upload.notice.level == "error" and words in upload.notice.text
    assert client.requests == []
    assert admin.models() == models_before
    # The message is the client's own, the one clone_voice would raise.
    with pytest.raises(AudioValidationError, match=words.split()[0]):
        client.clone_voice(data, "x", filename=name)


def test_clone_needs_a_name_and_a_sample(client, sample_mp3, closing) -> None:
    upload = closing(UploadWidget(client))
    assert upload.clone() is False
    assert "Pick an audio file" in upload.notice.text
    pick(upload.picker, sample_mp3, "narrator.mp3")
    upload.name.value = "   "
    upload.clone_button.click()
    assert upload.notice.level == "error" and "name" in upload.notice.text
    assert client.requests == []


def test_clone_sends_once_follows_the_status_to_ready_and_forgets_the_sample(client, admin, sample_mp3, closing) -> None:
    admin.transition({"progression": "polls", "times": 3})
    upload = closing(UploadWidget(client))
    cloned = []
    upload.on_cloned(lambda model, status: cloned.append((model, status)))
    pick(upload.picker, sample_mp3, "narrator.mp3")
    upload.name.value = "Narrator"
    upload.description.value = "made by a test"
    upload.enhance.value = True
    upload.clone_button.click()
    assert upload.busy.active and upload.clone_button.disabled and upload.picker.disabled
    assert upload.notice.level == "working"
    assert upload.busy.wait(60)

    assert client.count("POST", "/v1/voice-clone") == 1
    (model, status), = cloned
    assert model.name == "Narrator" and model.description == "made by a test" and model.is_processing
    assert upload.notice.level == "ok" and model.model_id in upload.notice.text
    assert upload.sample is None and "no longer kept here" in upload.checks.value
    assert upload.clone_button.disabled  # nothing left to send
    assert isinstance(status, StatusWidget) and upload.status_box.children == (status,)
    assert status.join(60)
    assert status.state == "ready" and status.model.voice_id
    assert upload.notice.level == "ok" and upload.notice.text == f"“Narrator” is ready ({model.model_id})."
    assert len(status.samples) == len(status.players.children) >= 1
    assert not holds_bytes(saved_widget_state(), sample_mp3)


def test_double_click_sends_one_request(client, admin, sample_mp3, closing) -> None:
    admin.faults({"rate": 1.0, "kinds": ["slow"], "slow_seconds": 1.0, "paths": ["/v1/voice-clone"]})
    models_before = admin.models()
    upload = closing(UploadWidget(client))
    pick(upload.picker, sample_mp3, "narrator.mp3")
    upload.name.value = "Once"
    upload.clone_button.click()
    upload.clone_button.click()  # the second click of a double click, while the first is working
    upload.clone_button.click()
    assert upload.busy.refused == 2
    assert upload.busy.wait(60)
    assert client.count("POST", "/v1/voice-clone") == 1
    assert admin.models() == models_before + 1
    upload.status.join(60)


def test_a_refusal_by_the_server_is_shown_as_it_is_and_the_sample_kept_for_another_try(client, closing) -> None:
    silence = make_audio("mp3", 12.0, "silence")  # passes the client's checks; the server hears no speech
    upload = closing(UploadWidget(client))
    pick(upload.picker, silence, "quiet.mp3")
    assert upload.assessment.ok
    upload.name.value = "Silence"
    upload.clone_button.click()
    assert upload.busy.wait(60)
    with pytest.raises(AudioValidationError) as refused:
        client.clone_voice(silence, "Silence", filename="quiet.mp3")
    assert upload.notice.level == "error" and refused.value.code == "no_speech"
    assert upload.notice.text.startswith(refused.value.message) and "(HTTP 422, code no_speech" in upload.notice.text
    assert "Details" not in upload.notice.value  # a user's error, not a bug: no traceback
    assert upload.sample == silence and upload.picker.value == ()
    assert not upload.clone_button.disabled  # may be retried
    assert upload.status is None


def test_an_unexpected_error_is_a_short_line_with_details_and_a_log_record(client, sample_mp3, closing, caplog, monkeypatch) -> None:
    key = client.api_key.reveal()

    def broken(*args, **kwargs):
        raise RuntimeError(f"socket exploded while sending {key}")

    monkeypatch.setattr(client, "clone_voice", broken)
    upload = closing(UploadWidget(client))
    pick(upload.picker, sample_mp3, "narrator.mp3")
    upload.name.value = "Boom"
    with caplog.at_level(logging.ERROR, logger="speechgen_jupyter.widgets"):
        upload.clone_button.click()
        assert upload.busy.wait(30)
    assert upload.notice.level == "error"
    assert upload.notice.text.startswith("Unexpected error while cloning the voice (RuntimeError: socket exploded")
    assert "<details" in upload.notice.value and "Traceback" in upload.notice.value and "broken" in upload.notice.value
    assert key not in upload.notice.value and "&lt;redacted&gt;" in upload.notice.value
    (record,) = [r for r in caplog.records if r.name == "speechgen_jupyter.widgets"]
    assert "Traceback" in record.getMessage() and key not in record.getMessage()
    assert not upload.clone_button.disabled


def test_a_failed_clone_shows_the_servers_reason(client, admin, sample_mp3, closing, page_only) -> None:
    admin.transition({"progression": "fail", "reason": "The sample has two speakers.", "code": "multiple_speakers"})
    upload = closing(UploadWidget(client))
    pick(upload.picker, sample_mp3, "narrator.mp3")
    upload.name.value = "Doomed"
    upload.clone_button.click()
    assert upload.busy.wait(60)
    status = upload.status
    assert status.join(60)
    assert status.state == "failed" and status.bar.bar_style == "danger"
    assert 'data-state="failed"' in status.line.value
    reason = "the server gave no reason" if page_only else "The sample has two speakers."  # (the reason is ours)
    assert status.notice.level == "error" and reason in status.notice.text
    assert upload.notice.level == "error" and "could not be cloned" in upload.notice.text
    wait_until(lambda: status.model is not None and status.model.is_failed, what="the failed model")


def test_a_file_the_browser_refused_to_send_is_explained(client, closing) -> None:
    """Over 10 MB the browser-side guard sends only the name and size (see widgets/_guard.py)."""
    upload = closing(UploadWidget(client))
    assert upload.guard.get_state()["picker"] == f"IPY_MODEL_{upload.picker.model_id}"
    assert upload.guard.limit == 10 * 1024 * 1024
    upload.guard._handle_msg(
        {"content": {"data": {"method": "custom", "content": {"kind": "too-big", "name": "huge.wav", "size": 11_040_078}}}, "buffers": []}
    )
    assert upload.sample is None and not upload.assessment.ok
    assert checks_of(upload) == {"Length": "unknown", "Format": "unknown", "Size": "bad"}
    assert upload.assessment.problem.startswith("huge.wav is 10.5 MB (11,040,078 bytes); the limit is 10 MB")
    assert upload.assessment.problem.endswith("It was not sent.")
    assert "stayed in your browser" in upload.checks.value and upload.clone_button.disabled
    upload.clone_button.click()
    assert upload.notice.level == "error" and client.requests == []
