"""The upload's waveform selection on the kernel's side: the report follows it, Clone sends only it,
"play the selection" plays it, and widget state holds a picture and numbers, never the sample.

The selection is moved the way the browser moves it (a state update of
`start`/`end` on release); tests/browser drags it with the mouse.
"""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest
from media import encode, music, speech
from widgets_helpers import holds_bytes, pick, saved_widget_state, wait_until

from speechgen_jupyter.widgets import UploadWidget

pytest_plugins = ["widgets_env"]

RATE = 16_000


@pytest.fixture(scope="module")
def podcast() -> bytes:
    """6 s of music, then 34 s of one voice: the start of a podcast."""
    return encode(np.concatenate([music(6.0), speech(34.0, sample_rate=RATE)[0]]), "mp3")


def browser_selects(upload: UploadWidget, start: float, end: float) -> None:
    """What the page sends when a handle is released."""
    upload.selector.set_state({"start": start, "end": end})


def stored_duration(server, model_id: str) -> float:
    import av

    (path,) = list(server.data_dir.rglob(f"{model_id}.audio"))
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return sum(f.samples for f in container.decode(stream)) / stream.codec_context.sample_rate


def test_the_report_follows_the_selection_and_clone_sends_only_it(client, wserver, podcast, closing) -> None:
    upload = closing(UploadWidget(client))
    pick(upload.picker, podcast, "podcast.mp3")
    assert upload.measuring.wait(60)
    assert upload.report.whole and upload.report.finding("start").level == "warning"  # music before the voice
    assert abs(upload.selector.speech_start - 6.0) < 0.3

    browser_selects(upload, 6.5, 38.25)
    wait_until(lambda: upload.report.start == 6.5, what="the report for the selection")
    assert upload.report.end == 38.25 and not upload.report.whole
    assert upload.report.finding("start").level == "ok" and upload.selection == (6.5, 38.25)
    assert "31.8 s selected" in upload.checks.value and 'class="sg-report"' in upload.report_view.value
    assert client.requests == []

    upload.name.value = "Podcast voice"
    upload.clone_button.click()
    assert upload.busy.wait(60)
    model = upload.status.model
    assert abs(stored_duration(wserver, model.model_id) - (38.25 - 6.5)) < 0.05  # what the server got is the selection
    assert upload.sample is None and upload.selector.peaks == [] and upload.editor.layout.display == "none"
    upload.status.join(60)


def test_a_selection_outside_10_s_to_5_min_blocks_clone_and_says_why(client, podcast, closing) -> None:
    upload = closing(UploadWidget(client))
    pick(upload.picker, podcast, "podcast.mp3")
    assert upload.measuring.wait(60) and not upload.clone_button.disabled
    browser_selects(upload, 10.0, 17.5)
    wait_until(lambda: upload.report.end == 17.5, what="the report for the selection")
    assert upload.clone_button.disabled
    assert upload.problem.startswith("The selection is 7.5 s long; Speechgen needs 10 seconds to 5 minutes")
    assert 'class="sg-problem"' in upload.checks.value and "Select more" in upload.checks.value
    upload.clone()
    assert upload.notice.level == "error" and client.requests == []
    browser_selects(upload, 10.0, 30.0)
    wait_until(lambda: upload.report.end == 30.0, what="the report for the selection")
    assert upload.problem is None and not upload.clone_button.disabled


@pytest.mark.server_modes("full")  # the selection is the same whatever the server offers (and this one is slow)
def test_a_recording_over_5_minutes_can_be_cloned_from_a_selection(client, closing) -> None:
    long = encode(np.tile(speech(60.0, sample_rate=RATE)[0], 6)[: int(320 * RATE)], "mp3")  # 5:20
    upload = closing(UploadWidget(client))
    pick(upload.picker, long, "lecture.mp3")
    assert upload.measuring.wait(120)
    assert upload.clone_button.disabled and "Trim it to 5 minutes or less" in upload.problem
    browser_selects(upload, 20.0, 140.0)
    wait_until(lambda: upload.report.end == 140.0, timeout=60, what="the report for the selection")
    assert upload.problem is None and not upload.clone_button.disabled


def test_play_sends_the_selection_as_audio_by_message_only(client, podcast, closing, monkeypatch) -> None:
    upload = closing(UploadWidget(client))
    pick(upload.picker, podcast, "podcast.mp3")
    assert upload.measuring.wait(60)
    sent: list[tuple[dict, list]] = []
    monkeypatch.setattr(upload.selector, "send", lambda content, buffers=None: sent.append((content, buffers or [])))
    upload.selector._handle_msg(
        {"content": {"data": {"method": "custom", "content": {"kind": "play", "id": "p1", "start": 8.0, "end": 20.5}}}, "buffers": []}
    )
    data = b"".join(bytes(b[0]) for _, b in sorted(sent, key=lambda m: m[0]["part"]))
    assert all(m["id"] == "p1" and m["parts"] == len(sent) for m, _ in sent)
    with wave.open(io.BytesIO(data)) as w:
        assert abs(w.getnframes() / w.getframerate() - 12.5) < 0.01
    state = saved_widget_state()
    assert not holds_bytes(state, data) and not holds_bytes(state, podcast)
    assert len(upload.selector.get_state()["peaks"]) <= 1200
