"""The audio player: plays a Speech from widget bytes, never loops, autoplays only when asked,
offers a download, and carries no key."""

from __future__ import annotations

import pytest
from widgets_helpers import saved_widget_state

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
