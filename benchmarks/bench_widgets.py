"""Widgets benchmark (issue 5): from pressing Speak to a playable <audio> in a real browser.

The studio notebook (tests/browser/notebooks/studio.ipynb) runs in JupyterLab
and in Notebook 7 on loopback, in Debian's chromium driven by playwright, with
the kernel talking to a local Speechgen server in its own process (as a real
service would be: not sharing the kernel's GIL). Each press is timed inside
the page, from the click to the moment the player's new <audio> element
reaches HAVE_FUTURE_DATA ("canplay": it would play if pressed), so the number
is what a person waits: the click's trip to the kernel, the request, the
bytes' trip back as widget state, and the browser decoding them.

For scale, the same request is timed alone from this process (no browser,
no kernel, no widgets).

Run: python -m benchmarks.bench_widgets
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import speechgen_jupyter as sg
from benchmarks._report import Row, median, print_rows
from benchmarks._server import server_process

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the browser tests' server and page helpers

from browser.pages import NotebookPage, launch
from browser.servers import JupyterServer

TEXT = "Please read this short sentence aloud for the studio benchmark."  # 10 words
VOICE = "en-us-female-1"
PRESSES = 9

_PRESS_JS = """
async (previous) => {
  const button = document.querySelector(".sg-speak-button");
  const t0 = performance.now();
  button.click();
  return await new Promise((resolve, reject) => {
    const poll = () => {
      const audio = document.querySelector(".sg-speak-player audio[data-clip]");
      if (audio && audio.dataset.clip !== previous && audio.readyState >= 3) {
        resolve({ ms: performance.now() - t0, clip: audio.dataset.clip, duration: audio.duration });
      } else if (performance.now() - t0 > 30000) {
        reject(new Error("no playable audio 30 s after pressing Speak"));
      } else {
        setTimeout(poll, 2);
      }
    };
    poll();
  });
}
"""


def presses(app: str, base_url: str, key: str, voice_name: str) -> list[float]:
    """Milliseconds from click to playable audio, for PRESSES presses after one warm-up."""
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-widgets-"))
    root = work / "root"
    root.mkdir()
    shutil.copy(REPO / "tests" / "browser" / "notebooks" / "studio.ipynb", root / "bench.ipynb")
    server = JupyterServer(app, root, work / "home", {"SPEECHGEN_BASE_URL": base_url, "SPEECHGEN_API_KEY": key}).start()
    try:
        with sync_playwright() as playwright:
            context = launch(playwright, work / "profile")
            try:
                nb = NotebookPage(context.new_page(), server, work, app)
                nb.open("bench.ipynb")
                nb.run_all()
                page = nb.page
                page.wait_for_function("document.querySelector('.sg-voice select')?.options.length > 0")
                nb.wait_cells_done()
                # Every press asks the server (the speech cache, issue 12, would answer presses 2 to 10).
                server.run_in_kernel("import speechgen_jupyter as sg; sg.get_client().cache = False")
                labels = [t.replace("\u00a0", " ") for t in page.locator(".sg-voice select option").all_inner_texts()]
                page.locator(".sg-voice select").select_option(index=labels.index(f"{voice_name} (built-in)"))
                page.locator(".sg-text textarea").fill(TEXT)
                page.locator(".sg-text textarea").blur()  # the text syncs to the kernel on change
                times: list[float] = []
                previous = ""
                durations: list[float] = []
                for i in range(PRESSES + 1):
                    page.wait_for_function("!document.querySelector('.sg-speak-button').disabled")
                    result = page.evaluate(_PRESS_JS, previous)
                    previous = result["clip"]
                    durations.append(result["duration"])
                    if i:  # the first press warms the engine and the page's decoders
                        times.append(result["ms"])
                if max(durations) - min(durations) > 0.1 or min(durations) < 1.5:
                    raise AssertionError(f"the presses did not all play the whole sentence: {durations}")
            finally:
                context.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return times


def request_alone(base_url: str, key: str, runs: int = PRESSES) -> list[float]:
    with sg.Client(api_key=key, base_url=base_url, cache=False) as client:
        client.text_to_speech(TEXT, VOICE)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            client.text_to_speech(TEXT, VOICE)
            times.append((time.perf_counter() - t) * 1000)
    return times


def run() -> list[Row]:
    rows = []
    with server_process() as speech_server:
        with sg.Client(api_key=speech_server.api_key, base_url=speech_server.base_url) as client:
            voice_name = next(v.name for v in client.list_voices() if v.voice_id == VOICE)
        for app, name in (("lab", "JupyterLab"), ("notebook", "Notebook 7")):
            times = presses(app, speech_server.base_url, speech_server.api_key, voice_name)
            rows.append(
                Row(
                    f"Speak -> playable <audio>, {name}, 10 words", median(times), "ms", "< 1 s median",
                    f"median of {PRESSES} presses after a warm-up (min {min(times):.0f}, max {max(times):.0f} ms), "
                    "timed in the page: click to readyState >= HAVE_FUTURE_DATA",
                )
            )
        alone = request_alone(speech_server.base_url, speech_server.api_key)  # after: the engine is warm by now
        rows.append(
            Row(
                "the same TTS request alone", median(alone), "ms", "(for scale)",
                f"median of {len(alone)}, Client.text_to_speech from this process, no browser or kernel",
            )
        )
    return rows


def main() -> None:
    print_rows("Widgets (issue 5)", run())


if __name__ == "__main__":
    main()
