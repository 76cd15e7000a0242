"""Drag-to-selection latency (issue 13): does the waveform's selection follow the pointer?

The studio notebook runs in JupyterLab and in Notebook 7 on loopback, in
Debian's chromium driven by playwright; a 60 s speech MP3 is picked with the
file chooser, then the start handle is pressed and moved by playwright's
mouse, one move at a time. Each move is timed in the page: from the
pointermove event's timestamp (when the browser took the input) to the
first animation frame after our handler ran, when the handle has been
drawn at the pointer. That frame is when a person sees it follow. Each move
is also checked: the handle must sit under the pointer (within a pixel).

Run: python -m benchmarks.bench_selection
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks._report import Row, median, print_rows
from benchmarks._server import server_process

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the browser tests' server and page helpers, and media

from browser.pages import NotebookPage, launch
from browser.servers import JupyterServer

MOVES = 60

#: Listens after the widget's own handler (bubbling to the window); records when the next frame starts.
_INSTRUMENT = """
() => {
  window.__sgLatency = [];
  window.addEventListener("pointermove", (e) => {
    if (!document.querySelector(".sg-wave-view").dataset.dragging) return;  // hovering, not dragging
    const stamp = e.timeStamp;
    const handle = document.querySelector(".sg-wave-handle[data-handle=start]");
    const box = document.querySelector(".sg-wave").getBoundingClientRect();
    const wanted = e.clientX;
    requestAnimationFrame(() => {
      const r = handle.getBoundingClientRect();
      window.__sgLatency.push({ ms: performance.now() - stamp, off: Math.abs(r.left - Math.max(box.left, Math.min(wanted, box.right))) });
    });
  });
}
"""


def drags(app: str, base_url: str, key: str, sample: Path) -> tuple[list[float], float]:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-selection-"))
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
                page.locator(".sg-studio").wait_for()
                nb.wait_cells_done()
                with page.expect_file_chooser() as chooser:
                    page.locator(".sg-picker").click()
                chooser.value.set_files(str(sample))
                page.locator(".sg-wave-view canvas").wait_for(timeout=120_000)
                page.locator(".sg-wave").scroll_into_view_if_needed()
                page.evaluate(_INSTRUMENT)
                box = page.locator(".sg-wave").bounding_box()
                knob = page.locator(".sg-wave-handle[data-handle=start]").bounding_box()
                assert box and knob
                y = box["y"] + box["height"] / 2
                page.mouse.move(knob["x"] + knob["width"] / 2, y)
                page.mouse.down()
                for i in range(MOVES):
                    page.mouse.move(box["x"] + 4 + i * (box["width"] * 0.6 / MOVES), y)
                page.mouse.up()
                page.wait_for_function(f"window.__sgLatency.length >= {MOVES}")
                samples = page.evaluate("window.__sgLatency")
            finally:
                context.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return [s["ms"] for s in samples], max(s["off"] for s in samples)


def run() -> list[Row]:
    from media import speech_file

    rows = []
    with tempfile.TemporaryDirectory() as tmp, server_process() as speech_server:
        sample = Path(tmp) / "talk.mp3"
        sample.write_bytes(speech_file("mp3", 60.0))
        for app, name in (("lab", "JupyterLab"), ("notebook", "Notebook 7")):
            times, off = drags(app, speech_server.base_url, speech_server.api_key, sample)
            if off > 1.5:
                raise AssertionError(f"the handle did not follow the pointer in {name}: {off:.1f} px away")
            ordered = sorted(times)
            rows.append(
                Row(
                    f"drag a selection handle, {name}: pointer move to drawn", median(times), "ms", "< 50 ms median",
                    f"median of {len(times)} moves (95th percentile {ordered[int(0.95 * len(ordered)) - 1]:.0f} ms, "
                    f"max {ordered[-1]:.0f} ms); handle within {off:.1f} px of the pointer every time",
                )
            )
    return rows


def main() -> None:
    print_rows("Sample selection in the browser (issue 13)", run())


if __name__ == "__main__":
    main()
