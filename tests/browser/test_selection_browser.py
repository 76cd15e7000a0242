"""The sample's selection dragged with the mouse in a real chromium, in JupyterLab and in Notebook 7.

A recording with music before the voice is picked through the file
chooser; the start handle is dragged past the music and the end handle
inwards with playwright's mouse. The selection is read back from the page,
from Python (the widget's traits and the report) and, after Clone, from the
sample the local server stored: all agree, the last within 50 ms.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .pages import NotebookPage, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="package")
def podcast_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s of music, then 30 s of one voice, as an MP3 on disk."""
    import numpy as np
    from media import encode, music, speech

    path = tmp_path_factory.mktemp("samples") / "podcast.mp3"
    path.write_bytes(encode(np.concatenate([music(6.0), speech(30.0, sample_rate=16_000)[0]]), "mp3"))
    return path


def drag(nb: NotebookPage, handle: str, to_seconds: float, duration: float) -> None:
    """Press on a handle, move in steps to where `to_seconds` is drawn, release: as a hand would."""
    page = nb.page
    page.locator(".sg-wave").scroll_into_view_if_needed()  # a hand can only drag what is on the screen
    box = page.locator(".sg-wave").bounding_box()
    knob = page.locator(f".sg-wave-handle[data-handle={handle}]").bounding_box()
    assert box and knob
    y = box["y"] + box["height"] / 2
    page.mouse.move(knob["x"] + knob["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * to_seconds / duration, y, steps=12)
    assert page.locator(".sg-wave-view").get_attribute("data-dragging") == handle
    page.mouse.up()


def kernel(nb: NotebookPage, expression: str) -> object:
    return json.loads(nb.server.run_in_kernel(f"import json\nprint(json.dumps({expression}))"))


def test_drag_the_selection_then_clone_only_it(nb, notebook, admin, speechgen, podcast_file) -> None:
    page = nb.page
    nb.open(notebook)
    nb.run_all()
    page.locator(".sg-studio").wait_for()
    nb.wait_cells_done()
    with page.expect_file_chooser() as chooser:
        page.locator(".sg-picker").click()
    chooser.value.set_files(str(podcast_file))
    page.locator(".sg-wave-view canvas").wait_for()
    page.locator('.sg-report .sg-finding[data-check="start"][data-level="warning"]').wait_for()  # the music
    view = page.locator(".sg-wave-view")
    duration = float(view.get_attribute("data-end"))
    assert abs(duration - 36.0) < 0.1
    nb.shot("1-picked")

    drag(nb, "start", 6.6, duration)
    drag(nb, "end", 33.0, duration)
    start, end = float(view.get_attribute("data-start")), float(view.get_attribute("data-end"))
    px = duration / page.locator(".sg-wave").bounding_box()["width"]  # one pixel, in seconds
    assert abs(start - 6.6) < 2 * px and abs(end - 33.0) < 2 * px, (start, end, px)
    assert view.locator(".sg-wave-length").inner_text().startswith(f"{end - start:.1f} s selected")
    # Python has the same selection, and the report beside the waveform is for it: no music left at the start.
    # (the page shows its numbers to the millisecond)
    same = lambda pair: pair == pytest.approx([start, end], abs=6e-4)  # noqa: E731
    wait_for(lambda: same(kernel(nb, "[studio.upload.report.start, studio.upload.report.end]")), 30, "the report")
    assert same(kernel(nb, "[studio.upload.selector.start, studio.upload.selector.end]"))
    page.locator('.sg-report .sg-finding[data-check="start"][data-level="ok"]').wait_for()
    assert f"{end - start:.1f} s selected" in page.locator(".sg-sample").inner_text()
    nb.shot("2-selected")

    # Play just the selection: the playhead runs from the selection's start.
    page.locator(".sg-wave-play").click()
    page.wait_for_function("document.querySelector('.sg-wave-view').dataset.playing === 'true'", timeout=20_000)
    page.wait_for_function(f"parseFloat(document.querySelector('.sg-wave-view').dataset.position || '0') > {start + 0.2}")
    page.locator(".sg-wave-play").click()  # stop
    assert view.get_attribute("data-playing") is None

    admin.transition({"progression": "immediate"})
    page.locator(".sg-name input").fill("Selected voice")
    page.locator(".sg-clone").click()
    page.locator('.sg-status-line[data-state="ready"]').wait_for(timeout=60_000)
    model_id = kernel(nb, "studio.upload.status.model.model_id")
    (stored,) = list(speechgen.data_dir.rglob(f"{model_id}.audio"))
    import av

    with av.open(str(stored)) as container:
        stream = container.streams.audio[0]
        seconds = sum(f.samples for f in container.decode(stream)) / stream.codec_context.sample_rate
    assert abs(seconds - (end - start)) < 0.05, (seconds, end - start)
    nb.shot("3-cloned")
    assert not nb.errors, nb.errors
