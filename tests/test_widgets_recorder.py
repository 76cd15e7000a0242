"""The recorder's Python side: a recording sent by the browser (one binary custom message) lands in
the upload widget with its checks, is acknowledged, and never sits in widget state."""

from __future__ import annotations

from media import make_audio, speech_file
from widgets_helpers import holds_bytes, saved_widget_state

from speechgen_jupyter.widgets import RecorderWidget, UploadWidget
from speechgen_jupyter.widgets.recorder import NO_MICROPHONE, RECORDING_FILENAME

pytest_plugins = ["widgets_env"]


class Sent(list):
    def __call__(self, content, buffers=None) -> None:
        self.append(content)


def recorder_for(upload: UploadWidget, monkeypatch) -> tuple[RecorderWidget, Sent]:
    recorder = RecorderWidget(upload=upload)
    sent = Sent()
    monkeypatch.setattr(recorder, "send", sent)
    return recorder, sent


def comm_message(recorder: RecorderWidget, content: object, buffers: list[bytes]) -> None:
    """A custom message from the browser, as the kernel's comm hands it to the widget."""
    recorder._handle_msg(
        {"content": {"data": {"method": "custom", "content": content}}, "buffers": [memoryview(b) for b in buffers]}
    )


def browser_sends(recorder: RecorderWidget, wav: bytes) -> None:
    """What the browser's "Use this recording" does (`model.send(content, undefined, [wav])`)."""
    comm_message(recorder, {"kind": "recording", "mime": "audio/wav", "seconds": 12.0}, [wav])


def test_a_recording_reaches_the_upload_and_is_acknowledged(client, closing, monkeypatch) -> None:
    upload = closing(UploadWidget(client))
    recorder, sent = recorder_for(upload, monkeypatch)
    closing(recorder)
    seen = []
    recorder.on_recording(lambda data, name: seen.append((len(data), name)))
    wav = speech_file("wav", 12.0)  # what the browser makes: 16 kHz mono 16-bit WAV
    browser_sends(recorder, wav)

    assert upload.sample == wav and upload.filename == RECORDING_FILENAME
    assert upload.assessment.ok and "recorded in the browser" in upload.checks.value and "WAV" in upload.checks.value
    # The recording shows as a waveform with a selection, and its report, like a picked file.
    assert upload.measuring.wait(60) and abs(upload.selector.duration - 12.0) < 0.05 and upload.selector.peaks
    assert upload.report is not None and upload.report.filename == RECORDING_FILENAME
    assert not upload.clone_button.disabled
    assert seen == [(len(wav), RECORDING_FILENAME)]
    assert sent == [{"kind": "received", "seconds": 12.0, "size": len(wav)}]
    assert recorder.received == 1
    assert not holds_bytes(saved_widget_state(), wav)
    assert client.requests == []


def test_a_short_recording_is_taken_and_its_problem_shown(client, closing, monkeypatch) -> None:
    upload = closing(UploadWidget(client))
    recorder, sent = recorder_for(upload, monkeypatch)
    closing(recorder)
    browser_sends(recorder, make_audio("wav", 3.0))
    assert sent[0]["kind"] == "received" and sent[0]["seconds"] == 3.0
    assert not upload.assessment.ok and "recording.wav is 3.0 seconds long" in upload.assessment.problem
    assert upload.clone_button.disabled


def test_empty_or_unreadable_recordings_are_refused_back_to_the_browser(client, closing, monkeypatch) -> None:
    upload = closing(UploadWidget(client))
    recorder, sent = recorder_for(upload, monkeypatch)
    closing(recorder)
    comm_message(recorder, {"kind": "recording"}, [])
    browser_sends(recorder, b"\x00\x01 not a wav at all" * 50)
    assert [m["kind"] for m in sent] == ["refused", "refused"]
    assert "arrived empty" in sent[0]["message"] and "could not be read" in sent[1]["message"]
    assert upload.sample is None and recorder.received == 0


def test_other_messages_are_ignored(client, closing, monkeypatch) -> None:
    upload = closing(UploadWidget(client))
    recorder, sent = recorder_for(upload, monkeypatch)
    closing(recorder)
    comm_message(recorder, {"kind": "something-else"}, [b"x"])
    comm_message(recorder, "not a dict", [])
    assert sent == [] and upload.sample is None


def test_a_failing_consumer_is_reported_to_the_browser(client, closing, monkeypatch) -> None:
    upload = closing(UploadWidget(client))
    recorder, sent = recorder_for(upload, monkeypatch)
    closing(recorder)
    recorder.on_recording(lambda data, name: 1 / 0)
    browser_sends(recorder, speech_file("wav", 11.0))
    assert sent[-1]["kind"] == "refused" and "ZeroDivisionError" in sent[-1]["message"]


def test_state_updates_from_the_browser_still_reach_the_traits(closing) -> None:
    recorder = closing(RecorderWidget())
    recorder._handle_msg({"content": {"data": {"method": "update", "state": {"status": "unavailable"}}}, "buffers": []})
    assert recorder.status == "unavailable"


def test_the_browser_code_points_to_the_upload_when_there_is_no_microphone(closing) -> None:
    recorder = closing(RecorderWidget())
    assert "VS Code" in NO_MICROPHONE and "Pick an audio file" in NO_MICROPHONE
    # The message is injected into the ES module as a JavaScript string literal.
    assert f"const NO_MICROPHONE = {__import__('json').dumps(NO_MICROPHONE)};" in recorder._esm
    assert "__NO_MICROPHONE__" not in recorder._esm
    assert recorder.max_seconds == 300 and recorder.status == "idle"
