"""Speak a whole column of a DataFrame: bounded concurrency, progress, order kept.

    import speechgen_jupyter as sg
    out = sg.speak_column(df, "text", voice="en-us", concurrency=8)
    out[out.error.notna()]          # the rows that failed, each with its reason
    out.speech[0].save("row0.mp3")

Why it is built this way:

* **Its own event loop in a worker thread.** A notebook cell already runs
  inside the kernel's event loop, so `asyncio.run` fails there and
  `nest_asyncio` patches asyncio for the whole process (and breaks other
  libraries). The requests run on a fresh loop in a thread; the cell's
  thread only waits and draws the progress bar. So it works the same in
  Jupyter, in a terminal IPython and in a script.
* **Adaptive concurrency over `AsyncClient`, up to `concurrency`.** Workers
  pull rows from one queue; every HTTP attempt passes an AIMD gate
  (`_aimd`): a 429 or 503 lowers how many requests are in flight (the
  refused one waits its Retry-After), successes raise it again, never above
  `concurrency`. Memory stays flat however long the column. Each request has
  the client's retries (429, 5xx, dropped connections) under its deadline.
* **Resumable.** Each row's speech goes into the speech cache the moment its
  request completes (not at the end), so a batch stopped by Ctrl-C, an
  error or a kernel restart, run again on the same input, requests only the
  rows (and parts of long rows) not spoken yet. The progress bar says how
  many came from the cache, the characters sent, and the concurrency now.
* **Failures are marked, not raised.** A row whose request fails after its
  retries gets `speech=None` and an `error` message; the batch goes on and
  every row ends spoken or marked. A bug (an exception that is not a
  `SpeechgenError`) still stops the batch and raises: it must not be hidden
  in a column.
* **Long texts** are split and joined per row exactly as `%%speechgen` does.
"""

from __future__ import annotations

import asyncio
import math
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from . import _constants as C
from .errors import InvalidInputError, SpeechgenError
from .longtext import LongText
from .types import Speech

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ._aimd import AdaptiveLimit
    from .client import AsyncClient, Client
    from .tables import SpeechgenFrame

__all__ = ["BatchItem", "speak_texts", "speak_column", "DEFAULT_CONCURRENCY"]

DEFAULT_CONCURRENCY = 8
T = TypeVar("T")


@dataclass(frozen=True)
class BatchItem:
    """One row's outcome: exactly one of `speech` and `error` is set."""

    index: int
    text: str | None
    voice: str | None
    speech: Speech | None = None
    error: SpeechgenError | None = None

    @property
    def ok(self) -> bool:
        return self.speech is not None


def _describe(err: SpeechgenError) -> str:
    return f"{type(err).__name__}: {err}"


@dataclass
class _Tally:
    """What the progress bar shows beside the rows: the concurrency now, characters sent, rows from the cache."""

    limit: AdaptiveLimit | None = None
    chars_sent: int = 0
    cached_rows: int = 0

    def postfix(self) -> str:
        parts = []
        if self.limit is not None:
            parts.append(f"concurrency {self.limit.allowed}/{self.limit.maximum}")
        parts.append(f"{self.chars_sent:,} chars spoken")
        if self.cached_rows:
            parts.append(f"{self.cached_rows} from cache")
        return ", ".join(parts)


async def _speak_row(
    aclient: AsyncClient, text: str, voice: str, fmt: str, max_chars: int, cache: bool | None
) -> tuple[Speech, int, bool]:
    """One row: (its speech, characters sent to the server, all of it from the cache)."""
    plan = LongText(text, voice, fmt, max_chars)
    parts: list[Speech] = []
    sent = 0
    for chunk in plan.chunks:
        speech, hit = await aclient._speak(chunk, voice, plan.request_format, cache)
        parts.append(speech)
        sent += 0 if hit else len(chunk)
    return plan.finish(parts), sent, sent == 0


def speak_texts(
    texts: Sequence[Any],
    voice: str | Sequence[str | None] | None,
    *,
    format: str = C.DEFAULT_OUTPUT_FORMAT,
    concurrency: int = DEFAULT_CONCURRENCY,
    client: Client | None = None,
    progress: bool = True,
    desc: str = "Speaking",
    max_chars: int = C.MAX_TEXT_CHARS,
    cache: bool | None = None,
) -> list[BatchItem]:
    """Speak every text; one `BatchItem` per text, in the order given.

    `voice` is one voice_id for all, or one per text. Empty or missing texts
    (None, NaN, "") are marked without a request. `concurrency` is the most
    requests in flight (fewer while the server answers 429); `cache=False`
    neither reads nor writes the speech cache.
    """
    if concurrency < 1:
        raise InvalidInputError("concurrency must be at least 1.")
    n = len(texts)
    voices = [voice] * n if voice is None or isinstance(voice, str) else list(voice)
    if len(voices) != n:
        raise InvalidInputError(f"Got {len(voices)} voices for {n} texts; give one voice, or one per text.")
    if client is None:
        from ._shared import get_client

        client = get_client()
    fmt = format.lower()
    if fmt not in C.OUTPUT_FORMATS:
        raise InvalidInputError(f"format must be one of {', '.join(C.OUTPUT_FORMATS)}; got {format!r}.")

    results: list[BatchItem | None] = [None] * n
    pending: list[tuple[int, str, str]] = []
    for i, (raw, v) in enumerate(zip(texts, voices, strict=True)):
        text = _as_text(raw)
        if text is None:
            results[i] = BatchItem(i, None, v, error=InvalidInputError("There is no text in this row."))
        elif not v:
            results[i] = BatchItem(i, text, None, error=InvalidInputError("No voice for this row."))
        else:
            pending.append((i, text, v))

    tally = _Tally()

    async def work(report: Callable[[int], None]) -> None:
        import httpx

        from . import _deadline
        from ._aimd import AdaptiveLimit, AdaptiveTransport

        jobs: asyncio.Queue[tuple[int, str, str]] = asyncio.Queue()
        for job in pending:
            jobs.put_nowait(job)
        tally.limit = AdaptiveLimit(concurrency)
        network = httpx.AsyncHTTPTransport()
        _deadline.install(network)
        async with client.to_async(transport=AdaptiveTransport(network, tally.limit)) as aclient:

            async def worker() -> None:
                while True:
                    try:
                        i, text, v = jobs.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    try:
                        speech, sent, cached = await _speak_row(aclient, text, v, fmt, max_chars, cache)
                    except SpeechgenError as err:
                        results[i] = BatchItem(i, text, v, error=err)
                    else:
                        results[i] = BatchItem(i, text, v, speech=speech)
                        tally.chars_sent += sent
                        tally.cached_rows += cached
                    report(i)

            workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, max(1, len(pending))))]
            try:
                await asyncio.gather(*workers)
            finally:
                for w in workers:
                    w.cancel()
                await asyncio.gather(*workers, return_exceptions=True)

    bar = _progress_bar(n, desc) if progress else None
    try:
        if bar is not None:
            bar.update(n - len(pending))
        run_in_worker_loop(work, on_report=(lambda _i: _advance(bar, tally)) if bar is not None else None)
    finally:
        if bar is not None:
            failed = sum(1 for r in results if r is not None and not r.ok)
            done = f"{failed} failed" if failed else "all spoken"
            bar.set_postfix_str(f"{done}, {tally.postfix()}", refresh=False)
            bar.close()
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def _advance(bar: Any, tally: _Tally) -> None:
    bar.set_postfix_str(tally.postfix(), refresh=False)  # drawn with the update, at tqdm's own rate
    bar.update(1)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    text = str(value)
    return text if text.strip() else None


def _progress_bar(total: int, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="text")


def run_in_worker_loop(
    work: Callable[[Callable[[int], None]], Any],
    *,
    on_report: Callable[[int], None] | None = None,
) -> None:
    """Run `await work(report)` on a new event loop in a thread; call `on_report` here.

    The calling thread drains a queue of reports, so progress bars are drawn
    from the thread that owns them (a notebook's), and Ctrl-C / "interrupt
    kernel" here cancels the work there and waits for it to stop.
    """
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    loop = asyncio.new_event_loop()
    state: dict[str, Any] = {}

    async def main() -> None:
        state["task"] = asyncio.current_task()
        await work(lambda i: events.put(("report", i)))

    def target() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as err:  # noqa: BLE001 - handed to the waiting thread
            events.put(("error", err))
        else:
            events.put(("done", None))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=target, name="speechgen-batch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = events.get()
            if kind == "report":
                if on_report is not None:
                    on_report(value)
            elif kind == "error":
                raise value
            else:
                return
    except KeyboardInterrupt:
        task = state.get("task")
        if task is not None:
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # the loop already finished and closed
                pass
        thread.join()
        raise
    finally:
        thread.join()


def speak_column(
    df: pd.DataFrame,
    column: str,
    voice: str | None = None,
    *,
    voice_column: str | None = None,
    format: str = C.DEFAULT_OUTPUT_FORMAT,
    concurrency: int = DEFAULT_CONCURRENCY,
    client: Client | None = None,
    progress: bool = True,
    into: str = "speech",
    error_into: str = "error",
    cache: bool | None = None,
) -> SpeechgenFrame:
    """Speak `df[column]`; a copy of `df` with a `speech` and an `error` column.

    Rows come back in `df`'s order and index. `speech` holds a `Speech` (plays
    inline when the table is shown; `.save(path)` to keep it) or None;
    `error` holds None or why that row failed. Give one `voice` for all rows,
    or `voice_column` naming a column of voice_ids.

    `concurrency` is the most requests at once: the batch sends fewer while
    the server answers 429 and more again as they succeed. Each row's speech
    is kept in the speech cache as it arrives, so running it again after an
    interruption requests only the rows not spoken yet (`cache=False`: no cache).
    """
    from .tables import SpeechgenFrame

    if column not in df.columns:
        raise InvalidInputError(f"No column {column!r} in the DataFrame; its columns are {list(df.columns)}.")
    if (voice is None) == (voice_column is None):
        raise InvalidInputError("Give either voice='<voice_id>' for every row or voice_column='<column name>'.")
    if voice_column is not None and voice_column not in df.columns:
        raise InvalidInputError(f"No column {voice_column!r} in the DataFrame; its columns are {list(df.columns)}.")
    voices: Any = voice if voice is not None else [_as_text(v) for v in df[voice_column].tolist()]
    items = speak_texts(
        df[column].tolist(), voices, format=format, concurrency=concurrency, client=client,
        progress=progress, desc=f"Speaking {column!r}", cache=cache,
    )
    out = SpeechgenFrame(df.copy())
    out[into] = pd_object([item.speech for item in items], out.index)
    out[error_into] = pd_object([_describe(item.error) if item.error else None for item in items], out.index)
    return out


def pd_object(values: list[Any], index: Any) -> Any:
    import pandas as pd

    return pd.Series(values, index=index, dtype=object)
