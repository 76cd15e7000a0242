"""Streamed playback benchmarks (issue 12): a ~2,000-character `%%speechgen` cell in JupyterLab, in chromium.

The same cell is run streamed (the default) and with `--no-stream` (waiting for the whole text, as
before streaming), interleaved, `--no-cache` on both so every run really asks the server (a local
server in its own process). Everything is timed in the page, from the moment JupyterLab marks the
cell running (its prompt turns to [*]):

- first sound playable, streamed: the first part's scheduled start on the AudioContext clock (what
  the ear hears, LEAD included); aim < 0.5 s;
- the whole text, not streamed: its <audio> has its data and metadata (it would play if pressed;
  generous to the baseline, which is otherwise later); the ratio of the two, aim >= 4x;
- the joined Speech, streamed vs not: the streamed player's <audio> holding the joined clip, against
  the same moment of the whole-text run; aim <= 1.1x;
- gaps as played: from the page's scheduled start times, the largest gap between one part's end and
  the next part's start, and the smallest (negative would be an overlap); aim no gap over 50 ms.

Run: python -m benchmarks.bench_streaming
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._report import Row, median, print_rows
from benchmarks._server import server_process

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the browser tests' server and page helpers

from browser.pages import NotebookPage, launch, wait_for  # noqa: E402
from browser.servers import JupyterServer  # noqa: E402

ROUNDS = 5

_NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": "setup", "metadata": {}, "outputs": [], "source": [
            "%load_ext speechgen_jupyter\n",
            "import speechgen_jupyter as sg\n",
            "from speechgen_jupyter.local.engine.texts import READING_PASSAGES\n",
            "TEXT = ' '.join(READING_PASSAGES + READING_PASSAGES[:2])[:2000]\n",
            "TEXT = TEXT[: TEXT.rfind('.') + 1]\n",
            "VOICE = next(v.voice_id for v in sg.get_client().list_voices() if v.kind == 'builtin')\n",
            "print(len(TEXT), VOICE)",
        ]},
        {"cell_type": "code", "execution_count": None, "id": "streamed", "metadata": {}, "outputs": [],
         "source": ["%%speechgen --voice {VOICE} --no-cache\n", "{TEXT}"]},
        {"cell_type": "code", "execution_count": None, "id": "whole", "metadata": {}, "outputs": [],
         "source": ["%%speechgen --voice {VOICE} --no-cache --no-stream\n", "{TEXT}"]},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}

#: Watch one cell: when its prompt turns to [*], when its first part is scheduled, when its <audio> has a clip.
_WATCH = """
(index) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[index];
  const prompt = cell.querySelector('.jp-InputArea-prompt');
  const watch = (window.__bench = { started: null, firstSound: null, clip: null, stream: null });
  const known = new Set(Object.keys(window.__speechgenStreams || {}));
  const tick = () => {
    const now = performance.now();
    if (watch.started === null && prompt.textContent.includes('*')) watch.started = now;
    const id = Object.keys(window.__speechgenStreams || {}).find((k) => !known.has(k));
    const stream = id ? window.__speechgenStreams[id] : null;
    if (watch.started !== null && stream && stream.startsEpochMs.length && watch.firstSound === null) {
      watch.firstSound = stream.startsEpochMs[0] - performance.timeOrigin;
    }
    const audio = cell.querySelector('.jp-OutputArea audio');
    if (watch.started !== null && audio && audio.readyState >= 1 && (audio.dataset.clip || audio.src.startsWith('data:'))) {
      watch.clip = now;
      if (stream) {
        watch.stream = { starts: stream.starts, durations: stream.durations, errors: stream.errors,
                         context: window.__speechgenAudio.state };
      }
      return;
    }
    setTimeout(tick, 2);
  };
  tick();
}
"""


def _gaps(stream: dict[str, Any]) -> list[float]:
    return [
        stream["starts"][i] - (stream["starts"][i - 1] + stream["durations"][i - 1]) for i in range(1, len(stream["starts"]))
    ]


def _wait_cell_done(nb: NotebookPage, index: int, timeout: float) -> None:
    """Cell `index` has run (a number in its prompt) and the kernel is idle.

    Not `NotebookPage.wait_cells_done`: that waits for every cell, and here the cells run one by one.
    """
    nb.page.wait_for_function(
        """(index) => {
          const prompt = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[index].querySelector('.jp-InputArea-prompt');
          return /\[\d+\]/.test(prompt.textContent);
        }""",
        arg=index,
        timeout=timeout * 1000,
    )
    wait_for(nb.server.kernel_idle, timeout, "an idle kernel")


def _run_cell(nb: NotebookPage, index: int) -> dict[str, Any]:
    page = nb.page
    page.evaluate(_WATCH, index)
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(index)
    cell.locator(".jp-InputArea-prompt").click()  # select it (command mode), as a person does
    page.keyboard.press("Control+Enter")  # run it, staying on it
    page.wait_for_function("window.__bench.clip !== null", timeout=120_000)
    _wait_cell_done(nb, index, 120)
    return dict(page.evaluate("window.__bench"))


def measure(base_url: str, key: str) -> tuple[list[float], list[float], list[float], list[float], str]:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-streaming-"))
    root = work / "root"
    root.mkdir()
    (root / "bench.ipynb").write_text(json.dumps(_NOTEBOOK))
    env = {"SPEECHGEN_BASE_URL": base_url, "SPEECHGEN_API_KEY": key, "SPEECHGEN_CACHE_DIR": str(work / "cache"),
           "SPEECHGEN_DATA_DIR": str(work / "data")}
    server = JupyterServer("lab", root, work / "home", env).start()
    first, whole, joined, gaps = [], [], [], []
    voice = ""
    try:
        with sync_playwright() as playwright:
            context = launch(playwright, work / "profile")
            try:
                nb = NotebookPage(context.new_page(), server, work, "lab")
                nb.open("bench.ipynb")
                nb.page.locator(".jp-Notebook .jp-CodeCell").nth(0).locator(".jp-InputArea-prompt").click()
                nb.page.keyboard.press("Control+Enter")
                _wait_cell_done(nb, 0, 60)
                voice = nb.page.locator(".jp-Notebook .jp-CodeCell").nth(0).locator(".jp-OutputArea").inner_text().split()[-1]
                _run_cell(nb, 1)  # a warm-up of each: the engine, the page's decoders, the widget's code
                _run_cell(nb, 2)
                for _ in range(ROUNDS):
                    s = _run_cell(nb, 1)
                    w = _run_cell(nb, 2)
                    assert s["stream"] and s["stream"]["context"] == "running" and not s["stream"]["errors"], s
                    first.append((s["firstSound"] - s["started"]) / 1000)
                    joined.append((s["clip"] - s["started"]) / 1000)
                    whole.append((w["clip"] - w["started"]) / 1000)
                    gaps.extend(_gaps(s["stream"]))
            finally:
                context.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return first, whole, joined, gaps, voice


def run() -> list[Row]:
    with server_process() as speech_server:
        first, whole, joined, gaps, voice = measure(speech_server.base_url, speech_server.api_key)
    f, w, j = median(first), median(whole), median(joined)
    return [
        Row(
            "%%speechgen ~2,000 characters, JupyterLab: cell run -> first sound (streamed)", f, "s", "< 0.5 s",
            f"median of {ROUNDS} (min {min(first):.3f}, max {max(first):.3f} s), timed in the page: prompt [*] to the "
            f"first part's scheduled start; voice {voice}, local server in its own process, no cache",
        ),
        Row(
            "the same, waiting for the whole text (--no-stream) vs the first sound streamed", w / f, "x", ">= 4",
            f"whole text playable after {w:.2f} s (median, interleaved runs: its <audio> has data and metadata)",
        ),
        Row(
            "the joined Speech, streamed vs waiting for the whole text", j / w, "x", "<= 1.1",
            f"streamed: the player holds the joined clip after {j:.2f} s; not streamed {w:.2f} s (medians)",
        ),
        Row(
            "largest gap between parts as played (beyond the parts' own silence)", 1000 * max(gaps), "ms", "<= 50 ms",
            f"{len(gaps)} joins over {ROUNDS} runs, from the page's scheduled starts; smallest {1000 * min(gaps):.2f} ms "
            "(negative would be an overlap)",
        ),
    ]


def main() -> None:
    os.environ.pop("SPEECHGEN_API_KEY", None)
    print_rows("Streamed playback (issue 12)", run())


if __name__ == "__main__":
    main()
