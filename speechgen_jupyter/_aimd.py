"""Adaptive concurrency for batches: additive increase, multiplicative decrease, as TCP does.

A batch does not know how many requests at once the service will take (a
plan's quota, a busy hour). A fixed concurrency is either too low (slow) or
too high (a stream of 429s, each a wasted round trip and a wait). So the
batch adapts, the way TCP finds a link's capacity:

* it starts at the user's `concurrency` (most servers take it: no time lost
  probing upwards);
* each success raises the limit by `1/limit` (one more request in flight per
  "round" of `limit` successes), but `SLOW_PROBE` times more slowly within
  one request of the level where the server last refused: a quota is a
  fixed line, and probing past it every round would be refused every round
  (TCP CUBIC flattens near its last loss for the same reason);
* a 429 or 503 (the server's "too many") cuts it by `DECREASE`, once per
  round: the refusals of requests sent before the cut say nothing new;
* the refused request waits the Retry-After the server gave, without holding
  a slot, and is sent again within the lower limit (by this transport: a
  refusal that only says "fewer at once" must not spend the client's
  retries, or a batch settling on its level would fail rows); only when the
  limit is already 1 and the server still refuses does the refusal go to the
  client's retry loop, and the whole batch pause for Retry-After, because
  then it is a rate, not a concurrency, that is over;
* never above the user's maximum, never below 1.

It works at the HTTP level (`AdaptiveTransport`, a wrapper of the client's
transport), so every attempt, retries included, passes the same gate, and a
cache hit, which sends nothing, takes no slot.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable

import anyio
import httpx

__all__ = ["AdaptiveLimit", "AdaptiveTransport", "DECREASE"]

#: What a congestion signal multiplies the limit by. Not TCP Reno's 0.5: a
#: quota is a hard line, and halving from just above it would leave the batch
#: well below it for many rounds (CUBIC, too, uses 0.7).
DECREASE = 0.7
#: Answers that mean "too many": the server is telling the client to slow down.
CONGESTION = (429, 503)
#: A request refused while the limit could still go lower is sent again (within the lower limit) up to
#: this many times, when the server asks for a wait no longer than MAX_REQUEUE_WAIT seconds; then the
#: refusal goes to the client, whose own retries take over.
MAX_REQUEUES = 8
MAX_REQUEUE_WAIT = 10.0
#: How many times more slowly the limit grows within one request of where the server last refused.
SLOW_PROBE = 8.0


class AdaptiveLimit:
    """The limit (how many requests may be in flight) and the gate every request passes.

    Used from one event loop (the batch's); not thread-safe, and need not be.
    """

    def __init__(self, maximum: int, *, decrease: float = DECREASE, clock: Callable[[], float] = time.monotonic) -> None:
        if maximum < 1:
            raise ValueError("maximum must be at least 1")
        self.maximum = maximum
        self.limit = float(maximum)
        self.decrease = decrease
        self.clock = clock
        self.in_flight = 0
        self.peak = 0
        self.epoch = 0  # bumped by each cut: a request remembers the epoch it started in
        self.ceiling = math.inf  # the limit when the server last refused
        self.resume_at = 0.0
        self.congestion = 0  # answers that said "too many"
        self._changed: anyio.Event | None = None

    @property
    def allowed(self) -> int:
        return max(1, min(self.maximum, math.floor(self.limit)))

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def acquire(self) -> int:
        """Wait for a free slot (and for any pause to end); the epoch the request starts in."""
        while True:
            wait = self.resume_at - self.clock()
            if wait > 0:
                await anyio.sleep(wait)
                continue
            if self.in_flight < self.allowed:
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                return self.epoch
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()

    def release(self) -> None:
        self.in_flight -= 1
        self._notify()

    def succeeded(self) -> None:
        step = 1.0 / max(self.limit, 1.0)
        if self.ceiling - 1.0 < self.limit < self.ceiling + 1.0:  # near where it was refused (beyond it: room)
            step /= SLOW_PROBE
        self.limit = min(float(self.maximum), self.limit + step)
        self._notify()

    def refused(self, started_epoch: int, retry_after: float | None) -> None:
        """A 429/503 for a request that started in `started_epoch`."""
        self.congestion += 1
        if started_epoch == self.epoch:
            if self.limit < 2.0 and retry_after:
                self.resume_at = max(self.resume_at, self.clock() + retry_after)
            self.ceiling = self.limit
            self.limit = max(1.0, self.limit * self.decrease)
            self.epoch += 1
        self._notify()


class _Released(httpx.AsyncByteStream):
    """The response body; its slot is given back when the body is done (the server is busy until then)."""

    def __init__(self, inner: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._release is not None:
                self._release, release = None, self._release
                release()


class AdaptiveTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends through `inner` within `limit` (see the module docstring)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: AdaptiveLimit) -> None:
        self.inner = inner
        self.limit = limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        from ._base_client import parse_retry_after

        attempt = 0
        while True:
            sent_at = self.limit.allowed
            epoch = await self.limit.acquire()
            try:
                response = await self.inner.handle_async_request(request)
            except BaseException:
                self.limit.release()
                raise
            if response.status_code in CONGESTION:
                retry_after = parse_retry_after(response)
                self.limit.refused(epoch, retry_after)
                wait = retry_after or 0.0
                if sent_at > 1 and attempt < MAX_REQUEUES and wait <= MAX_REQUEUE_WAIT:
                    # Too many at once, and fewer are possible: send it again within the lower
                    # limit, after the wait the server asked for, without spending a client retry.
                    attempt += 1
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
                        self.limit.release()
                    await anyio.sleep(wait)
                    continue
            elif response.status_code < 400:
                self.limit.succeeded()
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = _Released(response.stream, self.limit.release)
            return response

    async def aclose(self) -> None:
        await self.inner.aclose()
