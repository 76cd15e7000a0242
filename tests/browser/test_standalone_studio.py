"""`speechgen-studio` as a person uses it: the command started as a process, its page opened in chromium,
a sample picked, cloned and spoken with, and neither a code cell nor the key anywhere in the page.

The "real service" here is the test's local server, given to the command the
way a user gives theirs: SPEECHGEN_API_KEY and SPEECHGEN_BASE_URL in the
environment. Every websocket frame the page sends or receives is kept, so
"the key never reaches the page" covers the widget state too, not only the HTML.
"""

from __future__ import annotations

import base64
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .pages import media_duration

pytestmark = pytest.mark.browser

TEXT = "A page of its own, with no code in sight."


class Studio:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "speechgen_jupyter.standalone", "--no-browser"],
            env=env, stdout=subprocess.PIPE, stderr=log.open("wb"), start_new_session=True,
        )
        self.lines: list[str] = []
        self.url = self._read_url(timeout=120)

    def _read_url(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"speechgen-studio exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline().decode()
                self.lines.append(line)
                if line.startswith("Speechgen studio: "):
                    self.lines.append(self.proc.stdout.readline().decode())  # what it speaks to
                    return line.split(": ", 1)[1].strip()
        raise AssertionError(f"no address from speechgen-studio in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)  # the command stops Voila, its kernels and its local server
        try:
            return self.proc.wait(60)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def frames(context) -> Iterator[tuple[object, list[str | bytes]]]:
    page = context.new_page()
    seen: list[str | bytes] = []

    def watch(ws) -> None:
        ws.on("framereceived", lambda payload: seen.append(payload))  # (playwright wants Python functions)
        ws.on("framesent", lambda payload: seen.append(payload))

    page.on("websocket", watch)
    yield page, seen
    page.close()


def _holds(blob: str | bytes, secret: str) -> bool:
    text = blob if isinstance(blob, str) else blob.decode("latin-1")
    return secret in text or base64.b64encode(secret.encode()).decode()[:-4] in text


def test_pick_clone_and_speak_on_the_page_with_no_code_and_no_key(frames, admin, speechgen, sample_file, tmp_path) -> None:
    page, seen = frames
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEECHGEN_API") and k != "SPEECHGEN_BASE_URL"}
    env.update(SPEECHGEN_API_KEY=speechgen.api_key, SPEECHGEN_BASE_URL=speechgen.base_url)
    studio = Studio(env, tmp_path / "studio.log")
    try:
        assert studio.url.startswith("http://127.0.0.1:") and "token=" in studio.url
        assert speechgen.base_url in studio.lines[-1] and "SPEECHGEN_API_KEY" in studio.lines[-1]
        assert not any(speechgen.api_key in line for line in studio.lines)  # never printed
        anonymous = httpx.get(studio.url.split("?")[0], timeout=30)  # without the token: a login page, not the studio
        assert anonymous.status_code in (302, 401, 403) and "login" in anonymous.headers.get("location", "login")

        page.goto(studio.url)
        page.locator(".sg-studio").wait_for(timeout=120_000)
        page.wait_for_function("document.querySelector('.sg-voice select')?.options.length > 0", timeout=60_000)
        assert page.locator(".jp-InputArea-editor, .jp-InputArea .CodeMirror, .cm-editor").count() == 0
        assert "import speechgen_jupyter" not in page.content() and "sg.studio()" not in page.content()
        page.screenshot(path=str(tmp_path / "1-open.png"), full_page=True)

        with page.expect_file_chooser() as chooser:
            page.locator(".sg-picker").click()
        chooser.value.set_files(str(sample_file))
        page.locator('.sg-report .sg-finding[data-check="speech"]').wait_for(timeout=60_000)
        admin.transition({"progression": "immediate"})
        page.locator(".sg-name input").fill("Page voice")
        page.locator(".sg-clone").click()
        page.locator('.sg-status-line[data-state="ready"]').wait_for(timeout=60_000)
        page.wait_for_function(
            "document.querySelector('.sg-voice select option:checked').textContent.replace(/\\u00a0/g, ' ') === 'Page voice (your clone)'",
            timeout=60_000,
        )
        page.locator(".sg-text textarea").fill(TEXT)
        page.locator(".sg-speak-button").click()
        audio = page.locator(".sg-speak-player audio[data-clip]")
        audio.wait_for(state="attached", timeout=60_000)
        assert media_duration(audio) > 1.5
        page.screenshot(path=str(tmp_path / "2-spoken.png"), full_page=True)

        served = httpx.get(studio.url, timeout=60).text
        assert "import speechgen_jupyter" not in served and "sg.studio()" not in served
        for html in (page.content(), served):
            assert not _holds(html, speechgen.api_key)
        assert seen and not any(_holds(f, speechgen.api_key) for f in seen)  # nor in any widget message
    finally:
        assert studio.stop() == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(studio.url, timeout=5)


def test_without_a_key_it_starts_the_local_server_itself(frames, tmp_path) -> None:
    page, _ = frames
    env = {k: v for k, v in os.environ.items() if k not in ("SPEECHGEN_API_KEY", "SPEECHGEN_BASE_URL")}
    studio = Studio(env, tmp_path / "studio.log")
    try:
        assert "the offline local server at http://127.0.0.1:" in studio.lines[-1]
        local = studio.lines[-1].split(" at ", 1)[1].split(" ", 1)[0]
        page.goto(studio.url)
        page.locator(".sg-studio").wait_for(timeout=120_000)
        assert local in page.locator(".sg-studio").inner_text()
        page.wait_for_function("document.querySelector('.sg-voice select')?.options.length > 0", timeout=60_000)
    finally:
        assert studio.stop() == 0
