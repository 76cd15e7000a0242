"""What the server was asked, for tests and benchmarks that must count real requests (admin only).

A client-side counter can only say what a client meant to send; a cache that
"makes no request" or a stream that "stops at once" has to be checked where
the requests land. With admin on, every HTTP request is recorded as it
arrives (before fault injection, so refused and dropped ones count too) with
its wall-clock arrival time, and its status once answered; the number being
served at once and its peak are kept too. `GET /_admin/requests` reads it,
`POST /_admin/reset` clears it.

Bounded (the oldest entries go first), so a long benchmark cannot grow it
without limit; the counts are kept whole.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from typing import Any

__all__ = ["RequestLog", "RequestLogMiddleware"]

MAX_ENTRIES = 100_000


class RequestLog:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=max_entries)
        self._counts: Counter[str] = Counter()
        self._seq = 0
        self._in_flight = 0
        self._peak = 0

    def arrived(self, method: str, path: str) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            entry: dict[str, Any] = {"seq": self._seq, "at": time.time(), "method": method, "path": path, "status": None}
            self._entries.append(entry)
            self._counts[f"{method} {path}"] += 1
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            return entry

    def answered(self, entry: dict[str, Any], status: int | None) -> None:
        with self._lock:
            entry["status"] = status
            self._in_flight -= 1

    def snapshot(self, *, path: str | None = None, since: int = 0) -> dict[str, Any]:
        with self._lock:
            entries = [dict(e) for e in self._entries if e["seq"] > since and (path is None or e["path"] == path)]
            return {
                "requests": entries,
                "counts": dict(self._counts),
                "in_flight": self._in_flight,
                "peak_in_flight": self._peak,
                "last_seq": self._seq,
            }

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._counts.clear()
            self._peak = self._in_flight


class RequestLogMiddleware:
    """ASGI middleware: record each HTTP request in `log` (the admin routes' own reads are not recorded)."""

    def __init__(self, app: Any, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_admin/"):
            await self.app(scope, receive, send)
            return
        entry = self.log.arrived(scope["method"], scope["path"])
        status: list[int] = []

        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.log.answered(entry, status[0] if status else None)
