"""Fault injection: make the server misbehave the way real networks do.

A client's retry logic is only tested if something fails. With
`start(faults={"rate": 0.3, "kinds": ["429", "503", "drop", "slow"], "seed": 42})`
(or `PUT /_admin/faults`), each request matching `paths` fails with
probability `rate`, the kind drawn from `kinds`:

    429, 500, 502, 503, 504  that status with the API's error body; 429 and 503 carry Retry-After
    slow                     the request is held for `slow_seconds`, then served normally
    drop                     the connection is closed before the request is processed: no response
    drop_after               the request IS processed (a model may be created), then the
                             connection is closed: the response is lost, which is what
                             Idempotency-Key exists for

With a `seed` the sequence of draws is reproducible request by request. The
admin routes and /openapi.json are never faulted, so a test can always turn
faults off and a fuzzer can always read the schema.

`max_in_flight: N` (ours, for clients that adapt their concurrency) makes the
server behave like a service with a concurrency quota: a matching request that
arrives while N are already being served is answered 429 with Retry-After at
once, without being processed. It is independent of `rate`, and counted in the
stats as "over_limit" (with "peak_in_flight", the most served at once).
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .connection import abort_connection
from .problems import send_error

FAULT_KINDS = ("429", "500", "502", "503", "504", "slow", "drop", "drop_after")
DEFAULT_KINDS = ("429", "503", "drop", "slow")
_NEVER_FAULTED = ("/_admin/", "/openapi.json")
_MESSAGES = {
    "429": ("rate_limited", "Too many requests (injected by the local server's fault injection); retry after the delay."),
    "500": ("internal_error", "Internal server error (injected by the local server's fault injection)."),
    "502": ("bad_gateway", "Bad gateway (injected by the local server's fault injection)."),
    "503": ("service_unavailable", "Service unavailable (injected by the local server's fault injection); retry later."),
    "504": ("gateway_timeout", "Gateway timeout (injected by the local server's fault injection)."),
}

_OVER_LIMIT = (
    "Too many requests at once for this account (the local server's max_in_flight limit); "
    "retry after the delay, or send fewer requests at a time."
)


@dataclass(frozen=True)
class FaultConfig:
    rate: float = 0.0
    kinds: tuple[str, ...] = DEFAULT_KINDS
    retry_after: int = 1
    slow_seconds: float = 1.5
    seed: int | None = None
    paths: tuple[str, ...] | None = None
    max_in_flight: int | None = None

    @classmethod
    def parse(cls, value: FaultConfig | Mapping[str, Any] | None) -> FaultConfig:
        """Validate a dict like {"rate": 0.3, "kinds": ["429"], "seed": 1}; None means no faults."""
        if value is None:
            return cls()
        if isinstance(value, FaultConfig):
            return value
        if not isinstance(value, Mapping):
            raise ValueError('faults must be an object like {"rate": 0.3, "kinds": ["429", "503"]}')
        unknown = set(value) - {"rate", "kinds", "retry_after", "slow_seconds", "seed", "paths", "max_in_flight"}
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
        rate = value.get("rate", 0.0)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
            raise ValueError('"rate" must be a number from 0 to 1')
        kinds = value.get("kinds", list(DEFAULT_KINDS))
        if isinstance(kinds, str) or not isinstance(kinds, (list, tuple)) or not kinds:
            raise ValueError(f'"kinds" must be a non-empty list drawn from {", ".join(FAULT_KINDS)}')
        kinds = tuple(str(k) for k in kinds)
        bad = [k for k in kinds if k not in FAULT_KINDS]
        if bad:
            raise ValueError(f"unknown fault kind(s) {', '.join(bad)}; choose from {', '.join(FAULT_KINDS)}")
        retry_after = value.get("retry_after", 1)
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or not 0 <= retry_after <= 3600:
            raise ValueError('"retry_after" must be whole seconds from 0 to 3600 (Retry-After takes integers)')
        slow = value.get("slow_seconds", 1.5)
        if isinstance(slow, bool) or not isinstance(slow, (int, float)) or not 0 <= slow <= 600:
            raise ValueError('"slow_seconds" must be a number from 0 to 600')
        seed = value.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError('"seed" must be an integer or null')
        paths = value.get("paths")
        if isinstance(paths, str):
            paths = [paths]
        if paths is not None:
            if not isinstance(paths, (list, tuple)) or not all(isinstance(p, str) and p.startswith("/") for p in paths):
                raise ValueError('"paths" must be a list of path prefixes starting with "/", or null for all')
            paths = tuple(paths)
        limit = value.get("max_in_flight")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000):
            raise ValueError('"max_in_flight" must be a whole number of requests from 1 to 10000, or null for no limit')
        return cls(float(rate), kinds, retry_after, float(slow), seed, paths, limit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "retry_after": self.retry_after,
            "slow_seconds": self.slow_seconds,
            "seed": self.seed,
            "paths": list(self.paths) if self.paths is not None else None,
            "max_in_flight": self.max_in_flight,
        }


@dataclass
class FaultInjector:
    """Draws faults for requests; thread-safe, reconfigurable while serving."""

    config: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.config.seed)
        self.stats: Counter[str] = Counter()
        self._in_flight = 0

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)

    @staticmethod
    def faultable(path: str, config: FaultConfig) -> bool:
        if path.startswith(_NEVER_FAULTED):
            return False
        return config.paths is None or path.startswith(config.paths)

    def draw(self, path: str) -> str | None:
        with self._lock:
            config = self.config
            if config.rate <= 0 or not self.faultable(path, config):
                return None
            self.stats["considered"] += 1
            if self._rng.random() >= config.rate:
                return None
            kind = self._rng.choice(config.kinds)
            self.stats[kind] += 1
            return kind

    def enter(self, path: str) -> bool | None:
        """Admit a request under `max_in_flight`: True (admitted: call `leave`), False (over the limit), None (no limit)."""
        with self._lock:
            limit = self.config.max_in_flight
            if limit is None or not self.faultable(path, self.config):
                return None
            if self._in_flight >= limit:
                self.stats["over_limit"] += 1
                return False
            self._in_flight += 1
            self.stats["peak_in_flight"] = max(self.stats["peak_in_flight"], self._in_flight)
            return True

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


class FaultMiddleware:
    """ASGI middleware that applies the injector's draw to each HTTP request."""

    def __init__(self, app: Any, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        admitted = self.injector.enter(scope["path"])
        if admitted is False:
            headers = {"Retry-After": str(self.injector.config.retry_after)}
            await send_error(send, 429, "too_many_concurrent_requests", _OVER_LIMIT, headers)
            return
        try:
            await self._serve(scope, receive, send)
        finally:
            if admitted:
                self.injector.leave()

    async def _serve(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = self.injector.draw(scope["path"])
        if kind is None:
            await self.app(scope, receive, send)
            return
        config = self.injector.config
        if kind == "slow":
            await asyncio.sleep(config.slow_seconds)
            await self.app(scope, receive, send)
        elif kind == "drop":
            await abort_connection(scope, receive, send)
        elif kind == "drop_after":

            async def swallow(message: Any) -> None:
                return None

            await self.app(scope, receive, swallow)
            await abort_connection(scope, receive, send)
        else:
            code, message = _MESSAGES[kind]
            headers = {"Retry-After": str(config.retry_after)} if kind in ("429", "503") else {}
            await send_error(send, int(kind), code, message, headers)
