"""A local server in its own process, for benchmarks.

In-process servers share the GIL with the client being measured, so a
benchmark that compares client-side costs would partly time the server's
Python. A child process keeps the two apart, and lets the server's memory be
read from /proc.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


class ServerProcess:
    """`clone_seconds`: the server's clone fitting budget. 0 by default here: benchmarks of the HTTP
    machinery clone to get a voice, and a real fit's minute (bench_voices measures it, with None:
    the server's default) would only add a constant wait to them."""

    def __init__(self, *args: str, clone_seconds: float | None = 0.0) -> None:
        self.api_key = "sg_bench_" + secrets.token_hex(12)
        budget = [] if clone_seconds is None else ["--clone-seconds", str(clone_seconds)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "speechgen_jupyter.local", "--port", "0", "--api-key", self.api_key, *budget, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("Speechgen local server at "):
                self.base_url = line.split(" at ", 1)[1].strip()
                break
        else:
            raise RuntimeError("the local server did not start")

    def http(self, **kwargs) -> httpx.Client:  # type: ignore[no-untyped-def]
        kwargs.setdefault("timeout", 120)
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.api_key}"}, **kwargs)

    def memory_kb(self, field: str) -> int:
        """A field of /proc/<pid>/status, e.g. VmRSS or VmHWM (peak)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def reset_peak(self) -> None:
        """Linux: writing 5 to clear_refs resets the peak resident set (VmHWM) to the current one."""
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


@contextmanager
def server_process(*args: str, clone_seconds: float | None = 0.0) -> Iterator[ServerProcess]:
    server = ServerProcess(*args, clone_seconds=clone_seconds)
    try:
        yield server
    finally:
        server.stop()
