"""A deadline that holds for the whole call: every socket read, write and connect is clipped to it.

Why at the socket: httpx's timeouts are per operation. A read timeout of 3 s
is never tripped by a server that sends one byte every second, so a call
with `deadline=5` could be kept busy for as long as the server likes, in the
headers as well as in the body. Clipping each operation's timeout to what is
left of the deadline bounds every phase of a request (connecting, sending an
upload, waiting for the headers, reading the body) without a watchdog
thread: an operation that would outlive the deadline times out at it.

How: httpcore takes a pluggable network backend (its public
`NetworkBackend` / `AsyncNetworkBackend` interface). `DeadlineBackend` wraps
the one httpx made and hands out streams whose every operation reads the
current call's deadline from a context variable, set by `deadline_scope()`
around each call. A context variable, because one client serves many calls
at once (threads in a batch, tasks in an event loop), and a pooled
connection made by one call carries the next.

httpx offers no public way to give its default transport a backend, so
`install()` swaps the backend of the transport's connection pool (the
private `_pool._network_backend`, present since httpcore 0.16 and httpx
0.18). If a future httpx lacks them, nothing is swapped and the client's
own check between body chunks still stops the call, later by at most one
read timeout: tests/test_client_edges.py fails loudly if that happens.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("speechgen_deadline", default=None)


@contextmanager
def deadline_scope(deadline_at: float) -> Iterator[None]:
    """Within the block, network operations of this thread or task end by `deadline_at` (time.monotonic())."""
    token = _deadline.set(deadline_at)
    try:
        yield
    finally:
        _deadline.reset(token)


def _clip(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout` shortened to what is left of the current deadline; raise `error` when nothing is left."""
    deadline_at = _deadline.get()
    if deadline_at is None:
        return timeout
    left = deadline_at - time.monotonic()
    if left <= 0:
        raise error("the call's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clip(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clip(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> _Stream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _clip(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _clip(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _clip(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> _AsyncStream:
        inner = await self._inner.start_tls(ssl_context, server_hostname, _clip(timeout, httpcore.ConnectTimeout))
        return _AsyncStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _Stream:
        timeout = _clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _Stream:
        timeout = _clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class AsyncDeadlineBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _AsyncStream:
        timeout = _clip(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _AsyncStream:
        timeout = _clip(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def install(transport: Any) -> bool:
    """Give an httpx transport's connection pool a deadline-aware backend; False if it has none to wrap."""
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if isinstance(inner, (DeadlineBackend, AsyncDeadlineBackend)):
        return True
    if isinstance(inner, httpcore.AsyncNetworkBackend):
        pool._network_backend = AsyncDeadlineBackend(inner)  # type: ignore[union-attr]
    elif isinstance(inner, httpcore.NetworkBackend):
        pool._network_backend = DeadlineBackend(inner)  # type: ignore[union-attr]
    else:
        return False
    return True
