"""The audio player: plays a Speech from widget bytes, never loops, autoplays only when asked,
offers a download, and carries no key."""

from __future__ import annotations

import json
import time

import pytest
from widgets_helpers import holds_bytes, saved_widget_state, wait_until

from speechgen_jupyter.types import Speech
from speechgen_jupyter.widgets import AudioPlayer
from speechgen_jupyter.widgets.player import _ESM

pytest_plugins = ["widgets_env"]


@pytest.fixture
def speech(client) -> Speech:
    return client.text_to_speech("A player for this sentence, please.", "en-us-female-1", "ogg")


def test_a_speech_plays_from_widget_bytes_without_autoplay(speech, closing) -> None:
    player = closing(AudioPlayer(speech))
    state = player.get_state()
    assert player.audio == speech.data
    assert state["media_type"] == "audio/ogg" and state["filename"] == "speech.ogg"
    assert state["autoplay"] is False
    assert "OGG" in state["caption"] and f"{speech.duration:.1f} s" in state["caption"]
    assert player.clip_id and player.made_ms > 0
    assert player.speech is speech


def test_every_new_clip_gets_a_new_id_and_clear_empties_it(speech, client, closing) -> None:
    player = closing(AudioPlayer())
    assert player.audio == b"" and player.clip_id == ""
    player.show(speech)
    first = player.clip_id
    other = client.text_to_speech("Another one.", "en-us-male-2")
    player.show(other, caption="second", filename="second.mp3")
    assert player.clip_id != first and player.caption == "second" and player.filename == "second.mp3"
    assert player.media_type == "audio/mpeg" and player.audio == other.data
    player.clear()
    assert player.audio == b"" and player.clip_id == "" and player.speech is None


def test_autoplay_only_when_asked_and_never_a_loop(speech, closing) -> None:
    assert AudioPlayer(speech).autoplay is False
    assert closing(AudioPlayer(speech, autoplay=True)).autoplay is True
    # The browser side: the audio element is made with loop off and plays only when autoplay is set,
    # the clip is fresh (made in the last 2 minutes) and not already played in this page.
    assert "audio.loop = false" in _ESM and "loop = true" not in _ESM and "audio.autoplay" not in _ESM
    assert 'model.get("autoplay") && fresh && !played[clip]' in _ESM
    assert "link.download" in _ESM and "URL.createObjectURL" in _ESM


def test_only_speech_is_played(closing) -> None:
    with pytest.raises(TypeError, match="plays a Speech"):
        closing(AudioPlayer()).show(b"raw bytes")  # type: ignore[arg-type]


def test_no_key_in_the_widget_state(speech, client, closing) -> None:
    closing(AudioPlayer(speech))
    assert client.api_key.reveal() not in saved_widget_state()


# --------------------------------------------------------------------------- streamed playback (the kernel's side)

CHAPTER = " ".join(f"Sentence {i + 1} of a text long enough to be streamed in several parts." for i in range(24))
TTS = "/v1/text-to-speech"


def tts_log(admin) -> list[dict]:  # type: ignore[no-untyped-def]
    return admin.http.get("/_admin/requests", params={"path": TTS}).json()["requests"]


def page_has(player: AudioPlayer, part) -> None:  # type: ignore[no-untyped-def]
    """What the page does with each part it receives: tell the kernel it has the bytes."""
    player._on_page_message(player, {"event": "part", "stream": player.stream_id, "index": part.index}, [])


def test_a_stream_sends_each_part_once_in_order_and_ends_holding_the_joined_clip(client, closing) -> None:
    player = closing(AudioPlayer())
    seen: list = []
    player.observe(lambda change: seen.extend(p for p in change["new"] if p not in seen), names="parts")
    states: list[str] = []
    player.observe(lambda change: states.append(change["new"]), names="stream_state")
    stream = client.stream_speech(CHAPTER, "en-us-male-1")
    speech = player.play_stream(stream)
    assert speech is not None and speech == stream.speech and player.speech is speech
    assert [p.index for p in seen] == list(range(stream.total)) and stream.total >= 4
    assert states == ["streaming", "done"]
    assert player.parts == [] and player.audio == speech.data and player.clip_id  # the joined clip, as for any speech
    assert "parts" not in player.caption


def test_parts_the_page_has_are_closed_and_the_saved_state_holds_only_the_joined_clip(client, closing) -> None:
    player = closing(AudioPlayer())
    pieces: list = []
    player.observe(lambda change: pieces.extend(p for p in change["new"] if p not in pieces), names="parts")
    speech = player.play_stream(client.stream_speech(CHAPTER, "en-us-female-1"))
    assert all(p.comm is not None for p in pieces)  # not yet acknowledged
    for piece in pieces:
        page_has(player, piece)
    assert all(p.comm is None for p in pieces)  # closed: gone from the kernel and from any saved notebook
    saved = json.loads(saved_widget_state())["state"]
    assert not any(m["model_name"] == "WidgetModel" and "index" in m["state"] for m in saved.values())
    assert holds_bytes(saved_widget_state(), speech.data)  # the joined clip, as a player held before streaming


def test_unacknowledged_parts_are_closed_after_the_grace(client, closing, monkeypatch) -> None:
    import speechgen_jupyter.widgets.player as player_module

    monkeypatch.setattr(player_module, "PART_GRACE_SECONDS", 0.05)
    player = closing(AudioPlayer())
    pieces: list = []
    player.observe(lambda change: pieces.extend(p for p in change["new"] if p not in pieces), names="parts")
    player.play_stream(client.stream_speech(CHAPTER, "en-us-male-2"))
    wait_until(lambda: all(p.comm is None for p in pieces), 10, "the parts no page acknowledged to be closed")


def test_stop_from_the_page_sends_no_further_request(client, admin, closing) -> None:
    admin.faults({"rate": 1.0, "kinds": ["slow"], "slow_seconds": 0.3, "paths": [TTS]})
    since = len(tts_log(admin))
    player = closing(AudioPlayer())
    player.speak(CHAPTER, "en-us-male-1", client=client, lookahead=2)
    wait_until(lambda: len(player.parts) >= 1, 30, "the first part")
    stopped_at = time.time()
    player._on_page_message(player, {"event": "stop", "stream": player.stream_id}, [])  # the Stop button
    assert player.wait(30)
    log = tts_log(admin)[since:]
    assert player.stream_state == "stopped" and player.speech is None and "Stopped after" in player.caption
    assert len(log) < len(client.stream_speech(CHAPTER, "en-us-male-1").plan.parts)
    assert not [e for e in log if e["at"] > stopped_at + 0.1]  # nothing sent after Stop (those in flight finish)
    time.sleep(0.8)  # as long as the next parts would have taken
    assert len(tts_log(admin)) - since == len(log)


def test_closing_the_player_stops_the_stream(client, admin, closing) -> None:
    admin.faults({"rate": 1.0, "kinds": ["slow"], "slow_seconds": 0.3, "paths": [TTS]})
    player = AudioPlayer()
    player.speak(CHAPTER, "en-us-female-1", client=client, lookahead=1)
    wait_until(lambda: len(player.parts) >= 1, 30, "the first part")
    player.close()
    assert player.wait(30)
    asked = len(tts_log(admin))
    time.sleep(0.6)
    assert len(tts_log(admin)) == asked


def test_a_stream_error_is_shown_and_raised(client, closing) -> None:
    import speechgen_jupyter as sg

    player = closing(AudioPlayer())
    with pytest.raises(sg.NotFoundError):
        player.play_stream(client.stream_speech(CHAPTER, "no-such-voice"))
    assert player.stream_state == "failed" and player.parts == []
    assert player.caption.startswith("Could not speak it all: ") and "voice" in player.caption


def test_the_page_code_schedules_parts_back_to_back_on_one_clock() -> None:
    # The page side is proved in the browser (tests/browser/test_streaming_browser.py); here, that it is built
    # from Web Audio scheduling and not one <audio> element per part.
    assert "decodeAudioData" in _ESM and "source.start(when)" in _ESM and "Math.max(ctx.currentTime + LEAD, this.endAt)" in _ESM
    assert 'part.set("audio", new DataView(new ArrayBuffer(0)))' in _ESM


def test_a_page_that_acknowledges_each_part_at_once_gets_them_all(client, closing) -> None:
    """A fast page says "got it" while later parts are still coming: the player's list never names a closed part."""
    player = closing(AudioPlayer())
    pieces: list = []

    def arrived(change) -> None:  # type: ignore[no-untyped-def]
        for piece in change["new"]:
            if piece not in pieces:
                pieces.append(piece)
                page_has(player, piece)

    player.observe(arrived, names="parts")
    speech = player.play_stream(client.stream_speech(CHAPTER, "en-us-male-1"))
    assert speech is not None and player.stream_state == "done" and player.error is None
    assert len(pieces) >= 4 and all(p.comm is None for p in pieces)
