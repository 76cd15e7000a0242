"""Helpers shared by the proof suite (plain functions and classes, not fixtures).

- `CliServer`: the local server as its own process, exactly as a user runs
  it (`python -m speechgen_jupyter.local`), so a test can SIGKILL it and read
  its log output.
- `snapshot` / `Snapshot`: what "the store is unchanged" means, as data: the
  admin state's model counts, the whole listing, and every file under the data
  directory (so a refused request that leaves a stray file is caught).
- `assert_api_error`: the API's error body, and a message a person can act on.
- `sized`: the CI size of a test, or the nightly size when an env var asks.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from speechgen_jupyter.local.services import DB_NAME


def sized(env_var: str, ci_default: int) -> int:
    """`ci_default`, or the number in `env_var` (e.g. SPEECHGEN_FUZZ_EXAMPLES=1000 for a nightly run)."""
    raw = os.environ.get(env_var, "").strip()
    return int(raw) if raw else ci_default


# -- the server as a process --------------------------------------------------------------


class CliServer:
    """`python -m speechgen_jupyter.local` in a child process, on a free loopback port.

    Its stderr (uvicorn's and the package's log output) goes to `log_path`, so
    a test can read what the server logged. `kill()` is a real SIGKILL: no
    handler runs, nothing is flushed but what the server already committed.
    """

    def __init__(
        self, data_dir: Path, api_key: str, *args: str, log_path: Path | None = None, preexec_fn: Any = None
    ) -> None:
        self.data_dir = Path(data_dir)
        self.api_key = api_key
        self.log_path = log_path or self.data_dir.with_name(self.data_dir.name + ".log")
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()/kill()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "speechgen_jupyter.local", "--port", "0", "--data-dir", str(data_dir),
             "--api-key", api_key, *args],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            preexec_fn=preexec_fn,  # e.g. a resource limit for the server alone
        )
        assert self.proc.stdout is not None
        self.banner: list[str] = []
        for line in self.proc.stdout:  # printed once it really serves
            self.banner.append(line)
            if line.startswith("Use it:"):
                break
        first = self.banner[0] if self.banner else ""
        if " at http://" not in first:
            self.proc.kill()
            self.proc.wait(30)
            raise RuntimeError(f"the server did not start: {''.join(self.banner)!r}; log: {self.log()[-2000:]!r}")
        self.base_url = first.split(" at ", 1)[1].strip()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 120)
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.api_key}"}, **kwargs)

    def log(self) -> str:
        """Everything the server wrote to stderr so far (its own handle is unbuffered; ours may be closed)."""
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL, and wait until the process is really gone (its port and files released)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._close()

    def stop(self) -> None:
        """A polite stop (SIGTERM: the CLI's handler stops the server cleanly)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hung server must not hang the suite
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._close()

    def _close(self) -> None:
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()

    def __enter__(self) -> CliServer:  # noqa: PYI034 - a final class in tests
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- "the store is unchanged" -----------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    counts: dict[str, int]
    listing: list[dict[str, Any]]
    files: frozenset[str]


# SQLite's own files change size and may come and go (-journal, -shm, -wal); they are the store, not strays.
_DB_FILES = re.compile(re.escape(DB_NAME) + r"(-wal|-shm|-journal)?$")


def data_files(data_dir: Path) -> frozenset[str]:
    """Every file under the data directory, relative, except SQLite's own."""
    out = set()
    for path in Path(data_dir).rglob("*"):
        rel = path.relative_to(data_dir).as_posix()
        if (path.is_file() or path.is_symlink()) and not _DB_FILES.fullmatch(rel):
            out.add(rel)
    return frozenset(out)


def snapshot(api: httpx.Client, data_dir: Path) -> Snapshot:
    """Model counts from GET /_admin/state, the whole listing (usage counts included), and the files."""
    state = api.get("/_admin/state")
    assert state.status_code == 200, state.text
    listing = api.get("/v1/models", params={"limit": 100})
    assert listing.status_code == 200, listing.text
    return Snapshot(state.json()["models"], listing.json()["models"], data_files(data_dir))


# -- error bodies a person can act on ----------------------------------------------------

#: Words by which a message tells the reader what to do (or where to look).
_DO_CUES = (
    "upload", "send", "use ", "record", "trim", "convert", "give", "export", "try", "start again", "see ",
    "check", "retry", "wait", "attach", "cut out", "compress", "lists", "must be", "needs", "limit is", "get ",
    "shorten", "split", "remove", "let an http library",
)
_TRACE_MARKERS = ("Traceback", 'File "', "line ", "Error:", "Exception", "errno", "<class", "0x")


def assert_clear_message(message: str) -> None:
    """A sentence (or two) for a person: capitalised, ends like a sentence, says what to do, no trace."""
    assert 15 <= len(message) <= 600, message
    # A sentence starts with a capital, a quoted name, or the bare name of the field it is about.
    assert message[0].isupper() or message[0] in "'\"" or re.match(r"[a-z_]+ (must|is|has|needs) ", message), message
    assert message.rstrip().endswith((".", ".)", "!")), message
    for marker in _TRACE_MARKERS:
        assert marker not in message, f"{marker!r} in {message!r}"
    lowered = message.lower()
    assert any(cue in lowered for cue in _DO_CUES), f"the message does not say what to do: {message!r}"


def assert_api_error(response: httpx.Response, status: int | tuple[int, ...], code: str | None = None) -> dict[str, str]:
    """Exactly the API's error body, the status (one of) `status`, and a clear message."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and re.fullmatch(r"[a-z][a-z0-9_]*", error["code"]), error
    if code is not None:
        assert error["code"] == code, error
    assert_clear_message(error["message"])
    assert response.headers.get("x-request-id", "").startswith("req_")
    return error
