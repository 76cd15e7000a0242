"""Streamed playback as a person hears it, in a real chromium, in JupyterLab and in Notebook 7.

The local server holds every text-to-speech request 0.3 s (a fault of its
own), so "the first part plays before the last is requested" is a matter of
the server's log, not of luck; the page's scheduled start times (on the
AudioContext clock, in window.__speechgenStreams) say when each part plays.
Every request is counted where it lands, in the server's admin request log.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from speechgen_jupyter._streamplan import plan_parts
from speechgen_jupyter.local import LocalServer
from speechgen_jupyter.local.engine.texts import READING_PASSAGES

from .conftest import NOTEBOOKS
from .pages import NotebookPage, media_duration, wait_for

pytestmark = pytest.mark.browser

TTS = "/v1/text-to-speech"
CHAPTER = " ".join(READING_PASSAGES * 3)  # as the notebooks have it: long enough for several parts
PARTS = len(plan_parts(CHAPTER))

#: The one stream the page has played: its scheduled starts and lengths (AudioContext seconds), wall-clock starts.
_STREAM_JS = """
() => {
  const all = Object.values(window.__speechgenStreams || {});
  if (all.length !== 1) return null;
  const s = all[0];
  return { starts: s.starts, durations: s.durations, startsEpochMs: s.startsEpochMs, stopped: s.stopped,
           errors: s.errors, context: window.__speechgenAudio ? window.__speechgenAudio.state : null };
}
"""


@pytest.fixture
def slow_speech(speechgen: LocalServer) -> Iterator[httpx.Client]:
    """Every text-to-speech request held 0.3 s; the request log read from where this test starts."""
    http = httpx.Client(base_url=speechgen.base_url, headers={"Authorization": f"Bearer {speechgen.api_key}"}, timeout=30)
    http.put("/_admin/faults", json={"rate": 1.0, "kinds": ["slow"], "slow_seconds": 0.3, "paths": [TTS]}).raise_for_status()
    http.since = http.get("/_admin/requests").json()["last_seq"]  # type: ignore[attr-defined]
    yield http
    http.put("/_admin/faults", json={}).raise_for_status()
    http.close()


def tts_requests(http: httpx.Client) -> list[dict[str, Any]]:
    return list(http.get("/_admin/requests", params={"path": TTS, "since": http.since}).json()["requests"])  # type: ignore[attr-defined]


def open_notebook(nb: NotebookPage, name: str) -> None:
    shutil.copy(NOTEBOOKS / name, nb.server.root / name)
    nb.open(name)
    nb.run_all()


def assert_back_to_back(stream: dict[str, Any]) -> None:
    """Each part starts exactly when the one before ends: no gap over 50 ms, no overlap."""
    for i in range(1, len(stream["starts"])):
        gap = stream["starts"][i] - (stream["starts"][i - 1] + stream["durations"][i - 1])
        assert -1e-6 <= gap <= 0.05, (i, gap, stream)


def test_the_cell_plays_its_first_part_before_the_last_is_requested(nb: NotebookPage, slow_speech: httpx.Client) -> None:
    page = nb.page
    open_notebook(nb, "streaming.ipynb")
    player = page.locator(".sg-player-view")
    player.wait_for()
    # While the cell still runs, the first part is already scheduled to play.
    page.wait_for_function("(() => { const s = Object.values(window.__speechgenStreams || {})[0]; return s && s.starts.length > 0; })()")
    assert not nb.no_cell_running()
    nb.shot("1-first-part-playing")
    page.locator('.sg-player-view[data-stream-state="done"]').wait_for(timeout=60_000)
    nb.wait_cells_done()
    stream = page.evaluate(_STREAM_JS)
    requests = tts_requests(slow_speech)
    assert stream is not None and stream["context"] == "running" and not stream["errors"], stream
    assert len(stream["starts"]) == PARTS and len(requests) == PARTS
    first_sound = stream["startsEpochMs"][0] / 1000
    assert first_sound < requests[-1]["at"], (first_sound, [r["at"] for r in requests])
    assert_back_to_back(stream)
    # Then the player holds the joined clip, as long as the parts together, and the cell's variable has it.
    audio = page.locator(".sg-player-view audio[data-clip]")
    assert abs(media_duration(audio) - sum(stream["durations"])) < 0.1 * PARTS
    assert "all cells ran" in page.locator(".jp-OutputArea-output").last.inner_text()
    nb.shot("2-done")
    assert not nb.errors, nb.errors


def test_stop_halts_further_requests(nb: NotebookPage, slow_speech: httpx.Client) -> None:
    page = nb.page
    open_notebook(nb, "player_speak.ipynb")
    page.wait_for_function("(() => { const s = Object.values(window.__speechgenStreams || {})[0]; return s && s.starts.length > 0; })()")
    stop = page.locator(".sg-player-stop")
    clicked_at = page.evaluate("() => performance.timeOrigin + performance.now()") / 1000
    stop.click()
    # The kernel confirms: its stream is closed and its thread has ended, so nothing more can be sent.
    page.locator('.sg-player-view[data-stream-state="stopped"]').wait_for(timeout=30_000)
    stream = page.evaluate(_STREAM_JS)
    assert stream["stopped"]  # and the page went silent at once
    requests = tts_requests(slow_speech)
    assert len(requests) < PARTS, requests
    late = [r for r in requests if r["at"] > clicked_at + 0.2]
    assert not late, (clicked_at, late)  # none sent after Stop (those in flight when it was clicked finish)
    wait_for(lambda: slow_speech.get("/_admin/requests").json()["in_flight"] == 0, 10, "the server to be idle")
    assert len(tts_requests(slow_speech)) == len(requests)
    assert "Stopped after" in page.locator(".sg-player-caption").inner_text()
    nb.shot("stopped")
    assert not nb.errors, nb.errors
