"""Fixtures for the real-browser tests: a local Speechgen server, JupyterLab and Notebook 7 on
loopback, and Debian's chromium driven by the PyPI playwright package.

Without chromium or playwright these tests skip here, but fail under CI=true:
CI installs both (see .ci/run), so a skip there would hide a broken setup.
Screenshots go to test-artifacts/browser/ (gitignored).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from speechgen_jupyter.local import LocalServer, start

from .pages import CHROMIUM, NotebookPage, launch
from .servers import JupyterServer

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
NOTEBOOKS = Path(__file__).parent / "notebooks"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright; never `playwright install`)"
    return None


@pytest.fixture(scope="package")
def _browser_available() -> None:
    missing = _missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="package")
def speechgen(_browser_available: None) -> Iterator[LocalServer]:
    """The Speechgen server the notebooks' kernels talk to (admin on: tests choose how clones progress)."""
    with start(admin=True) as server:
        yield server


@pytest.fixture(scope="package")
def page_only_speechgen(speechgen: LocalServer) -> Iterator[LocalServer]:
    """A second server with only what Speechgen's page documents, behind the same key: a kernel switches to it
    by its URL alone (SPEECHGEN_TEST_PAGE_ONLY_URL), with no key in the notebook."""
    with start(page_only=True, api_key=speechgen.api_key, transition="immediate") as server:
        yield server


@pytest.fixture(scope="package")
def kernel_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kernels' data folder (their record of the models they made), which a test can read and write too."""
    return tmp_path_factory.mktemp("kernel-data")


class Admin:
    def __init__(self, server: LocalServer) -> None:
        self.http = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=30)

    def transition(self, value: dict) -> None:
        self.http.put("/_admin/transition", json=value).raise_for_status()


@pytest.fixture
def admin(speechgen: LocalServer) -> Iterator[Admin]:
    a = Admin(speechgen)
    yield a
    a.transition({"progression": "real"})
    a.http.close()


@pytest.fixture(scope="package", params=["lab", "notebook"])
def jupyter(
    request: pytest.FixtureRequest,
    speechgen: LocalServer,
    page_only_speechgen: LocalServer,
    kernel_data: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[JupyterServer]:
    """JupyterLab, then Notebook 7: each started once, on loopback, with isolated dirs; stopped with its kernels."""
    home = tmp_path_factory.mktemp(f"{request.param}-home")
    root = tmp_path_factory.mktemp(f"{request.param}-root")
    env = {
        "SPEECHGEN_BASE_URL": speechgen.base_url,
        "SPEECHGEN_API_KEY": speechgen.api_key,
        "SPEECHGEN_TEST_PAGE_ONLY_URL": page_only_speechgen.base_url,
        "SPEECHGEN_DATA_DIR": str(kernel_data),
    }
    server = JupyterServer(request.param, root, home, env).start()
    yield server
    server.stop()


# Package scope, not session: playwright's sync API keeps an asyncio loop
# running in the main thread while it is open, which would break every later
# test that calls asyncio.run() (as a notebook user's code may).
@pytest.fixture(scope="package")
def context(_browser_available: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):  # the artifacts show this run only
        old.unlink()

    with sync_playwright() as playwright:
        ctx = launch(playwright, tmp_path_factory.mktemp("chromium-profile"))
        yield ctx
        ctx.close()


@pytest.fixture
def notebook(request: pytest.FixtureRequest, jupyter: JupyterServer) -> str:
    """A fresh copy of the studio notebook in the server's root, named after the test."""
    name = f"{request.node.originalname}.ipynb"
    shutil.copy(NOTEBOOKS / "studio.ipynb", jupyter.root / name)
    return name


@pytest.fixture
def page_only_notebook(request: pytest.FixtureRequest, jupyter: JupyterServer) -> str:
    """A fresh copy of the notebook that opens the studio on the page-only server."""
    name = f"{request.node.originalname}.ipynb"
    shutil.copy(NOTEBOOKS / "studio_page_only.ipynb", jupyter.root / name)
    return name


@pytest.fixture
def nb(request: pytest.FixtureRequest, context: BrowserContext, jupyter: JupyterServer) -> Iterator[NotebookPage]:
    """A page in the browser; afterwards its session (and kernel) is ended and the page closed."""
    page = context.new_page()
    label = f"{jupyter.app}-{request.node.originalname.removeprefix('test_')}"
    wrapper = NotebookPage(page, jupyter, ARTIFACTS, label)
    yield wrapper
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        with contextlib.suppress(Exception):  # the page may be gone; the failure is reported anyway
            wrapper.shot("FAILED")
    page.close()
    jupyter.end_sessions()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep the call's report on the item, so `nb` can screenshot a failed test's page."""
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


@pytest.fixture(scope="package")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of real speech as an MP3 on disk, for the file chooser."""
    from media import speech_file

    path = tmp_path_factory.mktemp("samples") / "narrator.mp3"
    path.write_bytes(speech_file("mp3", 12.0))
    return path


@pytest.fixture(scope="package")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real WAV just over 10 MB (and too long too)."""
    from media import make_audio

    path = tmp_path_factory.mktemp("samples") / "huge.wav"
    path.write_bytes(make_audio("wav", 345.0, "tone"))
    return path
