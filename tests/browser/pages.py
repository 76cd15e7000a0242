"""Driving a notebook page the way a person does, for the browser tests and the widgets benchmark.

Every wait here is on a condition (a DOM selector, a kernel state from the
server's REST API, a media event), never a fixed sleep.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .servers import JupyterServer

if TYPE_CHECKING:  # playwright is imported only where a browser is really driven
    from playwright.sync_api import BrowserContext, Locator, Page, Playwright

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "NotebookPage", "launch", "media_duration", "wait_for"]

CHROMIUM = os.environ.get("SPEECHGEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # A fake microphone (a beeping tone) and no permission prompt, for the recorder.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]

#: Resolves with an <audio>'s duration once its metadata is loaded; rejects on a media error.
_DURATION_JS = """
(a) => new Promise((resolve, reject) => {
  if (a.readyState >= 1 && isFinite(a.duration)) { resolve(a.duration); return; }
  a.addEventListener("loadedmetadata", () => resolve(a.duration), { once: true });
  a.addEventListener("error", () => reject(new Error("media error " + (a.error && a.error.code))), { once: true });
})
"""


def launch(playwright: Playwright, profile: Path) -> BrowserContext:
    """Debian's chromium through the PyPI playwright package (never `playwright install`)."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 1000},
    )


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def media_duration(audio: Locator) -> float:
    """The browser's own idea of a clip's length (it decodes it), after `loadedmetadata`."""
    return float(audio.evaluate(_DURATION_JS))


class NotebookPage:
    """One notebook open in JupyterLab or Notebook 7."""

    def __init__(self, page: Page, server: JupyterServer, artifacts: Path, label: str) -> None:
        self.page = page
        self.server = server
        self.artifacts = artifacts
        self.label = label
        self.all_errors: list[str] = []
        page.on("pageerror", lambda err: self.all_errors.append(f"{err.message}\n{err.stack or ''}"))

    @property
    def errors(self) -> list[str]:
        """Uncaught errors thrown by widget code: ours (ES modules anywidget loads from blob: URLs) or the widget managers'.

        Notebook 7.6 throws one of its own at start-up ("reading 'schema'", in notebook_core,
        with or without any settings of ours), which is not this project's to fix or to hide.
        """
        markers = ("blob:", "anywidget", "jupyter-widgets", "jupyterlab-manager")
        return [e for e in self.all_errors if any(m in e for m in markers)]

    def open(self, notebook: str, timeout: float = 90.0) -> None:
        self.page.goto(self.server.url_for(notebook))
        self.page.locator(".jp-Notebook").first.wait_for(timeout=timeout * 1000)
        # The toolbar says "idle" before any kernel exists: ask the server instead.
        wait_for(self.server.kernel_ready, timeout, "a connected idle kernel")

    def run_all(self) -> None:
        """Run > Run All Cells, through the menu as a person would (the command has no default shortcut)."""
        self.page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        self.page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()

    def wait_cells_done(self, timeout: float = 60.0) -> None:
        """Every code cell has run (a number in its prompt, no "[*]") and the kernel is idle."""
        self.page.wait_for_function(
            """() => {
              const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent);
              return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p));
            }""",
            timeout=timeout * 1000,
        )
        wait_for(self.server.kernel_idle, timeout, "an idle kernel")

    def no_cell_running(self) -> bool:
        return not any("[*]" in t for t in self.page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts())

    def save(self, notebook: str, timeout: float = 30.0) -> dict[str, Any]:
        """Ctrl+S, then wait until the file on disk holds the widget state; returns the saved notebook."""
        self.page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        self.page.keyboard.press("Control+s")
        saved: list[dict[str, Any]] = []

        def written() -> bool:
            content = self.server.read_notebook(notebook)
            if content is not None and "widgets" in content.get("metadata", {}):
                saved.append(content)
            return bool(saved)

        wait_for(written, timeout, "the saved file with widget state")
        return saved[0]

    def shot(self, step: str) -> Path:
        path = self.artifacts / f"{self.label}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
