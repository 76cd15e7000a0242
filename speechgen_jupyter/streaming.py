"""Speech of a long text as a stream of parts: the first can play while the rest are spoken.

    with client.stream_speech(chapter, voice) as stream:
        for part in stream:              # in order, each a whole clip of a few sentences
            play(part.speech)
    stream.speech                        # then the same joined Speech as speak_long gives

    async with aclient.stream_speech(chapter, voice) as stream:
        async for part in stream:
            ...

Why it works this way:

* **Parts sized for latency** (`_streamplan`): one sentence first, then parts
  that double, at sentence boundaries; each part is one request, so each is
  billed once and cached on its own (a re-run or a resumed text requests
  only the parts not spoken yet).
* **A small bounded look-ahead**: at most `lookahead` requests are in flight
  (3 by default); the next one goes out as soon as one arrives, *before*
  the caller plays it, so the next part is usually in before the current
  one ends. Never the whole text at once: a stopped stream has paid for at
  most a few parts it did not use.
* **Order is kept** whatever order the answers come in.
* **Cancelling stops further requests at once**: `close()` (or leaving the
  `with` block, a `break`, an exception, Ctrl-C / "interrupt kernel" while
  waiting) sends nothing more. Requests already in flight on the sync
  client are let finish (a thread cannot abandon an HTTP request safely)
  and land in the cache, so the speech they paid for is not lost; the async
  stream cancels them.
* **Partial results are never joined or cached as a whole**: `speech` exists
  only once every part is in.

The sync stream works from threads (the widgets' background threads, a
cell's main thread); the async one needs `async with` because its requests
run in a task group (anyio: asyncio or trio).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._streamplan import StreamPlan
from .types import Speech

if TYPE_CHECKING:  # pragma: no cover
    from ._speakers import AsyncSpeaker, SyncSpeaker

__all__ = ["SpeechPart", "SpeechStream", "AsyncSpeechStream", "StreamClosed", "DEFAULT_LOOKAHEAD"]

#: Requests in flight at once while streaming.
DEFAULT_LOOKAHEAD = 3


@dataclass(frozen=True)
class SpeechPart:
    """One part of a streamed text: `speech` is a whole clip, playable on its own."""

    index: int
    total: int
    text: str
    speech: Speech
    #: True when it came from the speech cache (no request was made for it).
    cached: bool = False

    @property
    def last(self) -> bool:
        return self.index == self.total - 1


class StreamClosed(Exception):
    """The stream was closed before all of its parts were in (so there is no joined speech)."""


def _check_lookahead(lookahead: int) -> int:
    if not isinstance(lookahead, int) or isinstance(lookahead, bool) or lookahead < 1:
        from .errors import InvalidInputError

        raise InvalidInputError(f"lookahead must be a whole number of requests, at least 1; got {lookahead!r}.")
    return lookahead


class _Joined:
    """What both streams share: the plan, the parts so far, and the joined result."""

    def __init__(self, plan: StreamPlan) -> None:
        self.plan = plan
        self._spoken: list[Speech] = []
        self._speech: Speech | None = None
        self.requested = 0  # parts asked of the server (not found in the cache)
        self.cached = 0

    @property
    def total(self) -> int:
        return len(self.plan.parts)

    @property
    def done(self) -> int:
        """Parts received so far."""
        return len(self._spoken)

    @property
    def complete(self) -> bool:
        return self._speech is not None

    @property
    def speech(self) -> Speech:
        """The whole text as one clip; only once every part is in."""
        if self._speech is None:
            raise StreamClosed(
                f"The stream has {self.done} of {self.total} parts; the joined speech exists only when all are in "
                f"(iterate to the end, or call result())."
            )
        return self._speech

    def _received(self, speech: Speech, cached: bool) -> SpeechPart:
        index = len(self._spoken)
        self._spoken.append(speech)
        self.cached += cached
        self.requested += not cached
        if index == self.total - 1:
            self._speech = self.plan.finish(self._spoken)
        return SpeechPart(index, self.total, self.plan.parts[index], speech, cached)


class SpeechStream(_Joined):
    """The parts of one text, in order, with at most `lookahead` requests in flight (see the module docstring).

    Made by `Client.stream_speech`. Iterate it (once), or call `result()`.
    """

    def __init__(self, client: SyncSpeaker, plan: StreamPlan, *, lookahead: int = DEFAULT_LOOKAHEAD, cache: bool | None = None) -> None:
        super().__init__(plan)
        self._client = client
        self.lookahead = _check_lookahead(lookahead)
        self._cache = cache
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future[tuple[Speech, bool]]] = deque()
        self._submitted = 0
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def _fill(self) -> None:
        with self._lock:
            while not self._closed and self._submitted < self.total and len(self._pending) < self.lookahead:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=self.lookahead, thread_name_prefix="speechgen-stream")
                part = self.plan.parts[self._submitted]
                self._pending.append(
                    self._pool.submit(self._client._speak, part, self.plan.voice, self.plan.request_format, self._cache)
                )
                self._submitted += 1

    def __iter__(self) -> SpeechStream:
        return self

    def __next__(self) -> SpeechPart:
        self._fill()
        with self._lock:
            if self._closed or not self._pending:
                self._shutdown()
                raise StopIteration
            future = self._pending.popleft()
        try:
            speech, cached = future.result()
        except CancelledError:
            raise StopIteration from None  # closed from another thread (Stop, closing a widget)
        except BaseException:
            self.close()  # an error, Ctrl-C: nothing more is sent
            raise
        if self._closed:
            raise StopIteration
        self._fill()  # the next request goes out before this part is played
        part = self._received(speech, cached)
        if part.last:
            self._shutdown()
        return part

    def result(self) -> Speech:
        """Wait for every part and return the joined speech."""
        for _ in self:
            pass
        return self.speech

    def close(self) -> None:
        """Send no further request (thread-safe; idempotent). In-flight requests finish and are cached."""
        with self._lock:
            self._closed = True
            for future in self._pending:
                future.cancel()
            self._shutdown()

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> SpeechStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "complete" if self.complete else ("closed" if self._closed else "open")
        return f"<SpeechStream {self.done}/{self.total} parts, {state}>"


class _Slot:
    __slots__ = ("event", "value", "error")

    def __init__(self, event: Any) -> None:
        self.event = event
        self.value: tuple[Speech, bool] | None = None
        self.error: BaseException | None = None


class AsyncSpeechStream(_Joined):
    """The async twin of `SpeechStream`; use it as `async with aclient.stream_speech(...) as stream:`.

    Its requests run in a task group opened by `async with`, so leaving the
    block (normally, by `break` or by an error) cancels whatever is still in
    flight: structured concurrency, the same under asyncio and trio.
    """

    def __init__(
        self, client: AsyncSpeaker, plan: StreamPlan, *, lookahead: int = DEFAULT_LOOKAHEAD, cache: bool | None = None
    ) -> None:
        super().__init__(plan)
        self._client = client
        self.lookahead = _check_lookahead(lookahead)
        self._cache = cache
        self._group: Any = None
        self._slots: deque[_Slot] = deque()
        self._submitted = 0
        self._closed = False

    async def __aenter__(self) -> AsyncSpeechStream:
        import anyio

        if self._group is not None:
            raise RuntimeError("this stream is already open; make a new one with stream_speech(...)")
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        self._closed = True
        self._group.cancel_scope.cancel()
        return await self._group.__aexit__(*exc)  # type: ignore[no-any-return]

    def _fill(self) -> None:
        import anyio

        while not self._closed and self._submitted < self.total and len(self._slots) < self.lookahead:
            slot = _Slot(anyio.Event())
            part = self.plan.parts[self._submitted]
            self._slots.append(slot)
            self._group.start_soon(self._run, slot, part)
            self._submitted += 1

    async def _run(self, slot: _Slot, part: str) -> None:
        try:
            slot.value = await self._client._speak(part, self.plan.voice, self.plan.request_format, self._cache)
        except Exception as err:  # noqa: BLE001 - handed to the consumer, in order
            slot.error = err
        finally:
            slot.event.set()

    def __aiter__(self) -> AsyncSpeechStream:
        if self._group is None:
            raise RuntimeError(
                "Open the stream first: `async with aclient.stream_speech(text, voice) as stream: "
                "async for part in stream: ...` (its requests run in a task group that the block closes)."
            )
        return self

    async def __anext__(self) -> SpeechPart:
        if self._group is None:
            self.__aiter__()
        self._fill()
        if self._closed or not self._slots:
            raise StopAsyncIteration
        slot = self._slots[0]
        await slot.event.wait()
        self._slots.popleft()
        if slot.error is not None:
            self._closed = True
            raise slot.error
        assert slot.value is not None
        self._fill()
        speech, cached = slot.value
        return self._received(speech, cached)

    async def result(self) -> Speech:
        async for _ in self:
            pass
        return self.speech

    async def aclose(self) -> None:
        """Send no further request; the block's end cancels those in flight."""
        self._closed = True


ProgressCallback = Callable[[SpeechPart], None]
