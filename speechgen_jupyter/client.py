"""`Client` and `AsyncClient`: the one way this package talks to Speechgen.

Both are thin: every operation is described once in `_operations`, and the
retry policy and error mapping live in `_base_client`. What differs is only
how a request is sent and how the client sleeps between retries.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import anyio
import httpx

from . import _constants as C
from . import _deadline
from . import _operations as ops
from ._base_client import (
    USER_AGENT,
    BearerAuth,
    BodyReader,
    Call,
    RetryState,
    build_timeout,
    deadline_error,
    decoding_error,
    finish,
    forget_key,
    resolve_api_key,
    resolve_base_url,
    retry_delay,
    transport_error,
)
from ._inputs import AudioInput
from ._secret import Secret
from .errors import InvalidInputError, NotFoundError
from .types import Sample, Speech, Voice, VoiceModel, WaitProgress

__all__ = ["Client", "AsyncClient"]

log = logging.getLogger("speechgen_jupyter")
# Module-level so tests can record the retry schedule without waiting it out.
_sleep = time.sleep
_async_sleep = anyio.sleep
T = TypeVar("T")
ProgressCallback = Callable[[WaitProgress], None]


class _ClientBase:
    """Configuration common to both clients, resolved once when the client is built."""

    def __init__(
        self,
        *,
        api_key: str | Secret | None,
        base_url: str | httpx.URL | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        deadline: float,
        max_audio_bytes: int,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if deadline <= 0:
            raise ValueError("deadline must be a positive number of seconds")
        if not isinstance(max_audio_bytes, int) or max_audio_bytes <= 0:
            raise ValueError("max_audio_bytes must be a positive number of bytes")
        self.base_url = resolve_base_url(base_url)
        self._secret = resolve_api_key(api_key)
        self._auth = BearerAuth(self._secret, self.base_url)
        self.timeout = build_timeout(timeout)
        self.max_retries = max_retries
        self.deadline = deadline
        self.max_audio_bytes = max_audio_bytes

    @property
    def api_key(self) -> Secret:
        """The key, wrapped so that printing it shows nothing."""
        return self._secret

    @property
    def account(self) -> str:
        """A fingerprint of the account (see `Secret.fingerprint`): what records and caches on disk are keyed by."""
        return self._secret.fingerprint()

    def _url(self, call: Call[Any]) -> httpx.URL:
        return self.base_url.join(call.url)

    def _retrying(self, call: Call[Any], url: httpx.URL, delay: float, why: str, state: RetryState) -> None:
        log.info(
            "Retrying %s %s in %.2f s after %s (retry %d of %d)",
            call.method, url.path, delay, why, state.retries, state.max_retries,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self.base_url)!r}, api_key=<redacted>)"


class Client(_ClientBase):
    """A synchronous Speechgen client.

    The key comes from `api_key`, else `SPEECHGEN_API_KEY`; the server from
    `base_url`, else `SPEECHGEN_BASE_URL`, else https://api.speechgen.com.
    Failed requests are retried (429, most 5xx, timeouts, lost connections)
    with backoff, and no call takes longer than `deadline` seconds in all,
    however slowly the server sends its answer. An answer is read within a
    cap (`max_audio_bytes` for speech and samples) and checked before it is
    trusted: a 200 that is not audio is an `UnexpectedResponseError`.
    """

    def __init__(
        self,
        *,
        api_key: str | Secret | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = C.DEFAULT_MAX_RETRIES,
        deadline: float = C.DEFAULT_DEADLINE,
        max_audio_bytes: int = C.DEFAULT_MAX_AUDIO_BYTES,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries, deadline=deadline,
            max_audio_bytes=max_audio_bytes,
        )
        self._owns_http = http_client is None
        if http_client is None:
            transport = transport or httpx.HTTPTransport()
            _deadline.install(transport)
        self._http = http_client or httpx.Client(
            transport=transport, headers={"User-Agent": USER_AGENT}, follow_redirects=False
        )

    # ------------------------------------------------------------------ plumbing

    def _send(self, call: Call[T]) -> T:
        """One call: attempts within the deadline, each answer streamed in within its cap, then parsed."""
        url = self._url(call)
        state = RetryState(self.max_retries, call.deadline or self.deadline)
        while True:
            request = call.build(self._http, url, state.attempt_timeout(self.timeout))
            try:
                with _deadline.deadline_scope(state.deadline_at):
                    response = self._http.send(request, auth=self._auth, stream=True)
                    try:
                        delay = retry_delay(response, state)
                        if delay is None:
                            reader = BodyReader(call, response, state, self.max_audio_bytes)
                            for chunk in response.iter_bytes():
                                if reader.feed(chunk):
                                    break
                    finally:
                        response.close()
            except httpx.TransportError as err:
                forget_key(err)
                if state.expired():
                    raise deadline_error(call, url, state) from err
                delay = state.next_delay()
                if delay is None:
                    raise transport_error(err, url, state.retries + 1) from err
                self._retrying(call, url, delay, type(err).__name__, state)
                _sleep(delay)
                continue
            except httpx.DecodingError as err:
                raise decoding_error(response, err) from err
            if delay is not None:
                self._retrying(call, url, delay, f"HTTP {response.status_code}", state)
                _sleep(delay)
                continue
            return finish(call, reader.answer(), self._secret)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def to_async(self) -> AsyncClient:
        """An `AsyncClient` with the same settings (and its own connection pool)."""
        return AsyncClient(
            api_key=self._secret, base_url=self.base_url, timeout=self.timeout,
            max_retries=self.max_retries, deadline=self.deadline, max_audio_bytes=self.max_audio_bytes,
        )

    # ------------------------------------------------------------------ (page) endpoints

    def clone_voice(
        self,
        audio: AudioInput,
        name: str,
        description: str | None = None,
        enhance_quality: bool = False,
        *,
        filename: str | None = None,
        check: bool = True,
    ) -> VoiceModel:
        """Upload a sample and start cloning; the model comes back `processing`.

        `audio` is a path, bytes or a binary file object. The sample is checked
        here first (size, format by content, duration) so a bad one is refused
        at once with the reason; `check=False` leaves that to the server.
        """
        return self._send(ops.clone_voice(audio, name, description, enhance_quality, filename=filename, check=check))

    def get_model(self, model_id: str) -> VoiceModel:
        return self._send(ops.get_model(model_id))

    def delete_model(self, model_id: str) -> None:
        self._send(ops.delete_model(model_id))

    def text_to_speech(self, text: str, voice: str | Voice | VoiceModel, format: str = C.DEFAULT_OUTPUT_FORMAT) -> Speech:
        """Speak `text` with a voice_id (a built-in voice or a ready clone)."""
        return self._send(ops.text_to_speech(text, voice, format))

    def wait_for_model(
        self,
        model_id: str | VoiceModel,
        timeout: float = C.DEFAULT_WAIT_TIMEOUT,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> VoiceModel:
        """Block until the model is ready; raise `ModelFailedError` or `TimeoutError`.

        Polls adaptively around the server's `estimated_completion`;
        `on_progress` receives a `WaitProgress` after every poll.
        """
        model_id = model_id.model_id if isinstance(model_id, VoiceModel) else model_id
        waiter = ops.ModelWaiter(model_id, timeout, on_progress, time.monotonic, self._secret)
        while True:
            call = ops.get_model(model_id)
            call.deadline = max(1.0, min(self.deadline, waiter.remaining()))
            model = self._send(call)
            delay = waiter.observe(model)
            if delay is None:
                return model
            _sleep(delay)

    # ------------------------------------------------------------------ (ours) endpoints

    def iter_models(self, page_size: int = 100) -> Iterator[VoiceModel]:
        """Every voice model, page by page (follows `next_cursor`)."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            try:
                models, cursor = self._send(ops.list_models_page(cursor, page_size))
            except NotFoundError as err:
                raise ops.ours_missing("GET /v1/models", "a listing of your voice models", err) from err
            yield from models
            if not cursor or cursor in seen:
                return
            seen.add(cursor)

    def list_models(self) -> list[VoiceModel]:
        return list(self.iter_models())

    def list_voices(self) -> list[Voice]:
        """Built-in voices and every ready clone."""
        try:
            return self._send(ops.list_voices())
        except NotFoundError as err:
            raise ops.ours_missing("GET /v1/voices", "a listing of voices", err) from err

    def sample_audio(self, sample: Sample, model: VoiceModel | None = None) -> Speech:
        """Fetch a model sample's audio through the kernel, for inline playback.

        The browser of a remote kernel cannot reach the sample's URL (and must
        never be handed the key), so the kernel fetches the bytes.
        """
        if not sample.audio_url:
            raise InvalidInputError(f"The sample {sample.title!r} has no audio_url yet.")
        return self._send(ops.fetch_audio(sample.audio_url, text=sample.text, voice=model.voice_id if model else None))


class AsyncClient(_ClientBase):
    """The asyncio (and trio) twin of `Client`, for batches and background work."""

    def __init__(
        self,
        *,
        api_key: str | Secret | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = C.DEFAULT_MAX_RETRIES,
        deadline: float = C.DEFAULT_DEADLINE,
        max_audio_bytes: int = C.DEFAULT_MAX_AUDIO_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries, deadline=deadline,
            max_audio_bytes=max_audio_bytes,
        )
        self._owns_http = http_client is None
        if http_client is None:
            transport = transport or httpx.AsyncHTTPTransport()
            _deadline.install(transport)
        self._http = http_client or httpx.AsyncClient(
            transport=transport, headers={"User-Agent": USER_AGENT}, follow_redirects=False
        )

    async def _send(self, call: Call[T]) -> T:
        """See `Client._send`: the same steps, awaited."""
        url = self._url(call)
        state = RetryState(self.max_retries, call.deadline or self.deadline)
        while True:
            request = call.build(self._http, url, state.attempt_timeout(self.timeout))
            try:
                with _deadline.deadline_scope(state.deadline_at):
                    response = await self._http.send(request, auth=self._auth, stream=True)
                    try:
                        delay = retry_delay(response, state)
                        if delay is None:
                            reader = BodyReader(call, response, state, self.max_audio_bytes)
                            async for chunk in response.aiter_bytes():
                                if reader.feed(chunk):
                                    break
                    finally:
                        await response.aclose()
            except httpx.TransportError as err:
                forget_key(err)
                if state.expired():
                    raise deadline_error(call, url, state) from err
                delay = state.next_delay()
                if delay is None:
                    raise transport_error(err, url, state.retries + 1) from err
                self._retrying(call, url, delay, type(err).__name__, state)
                await _async_sleep(delay)
                continue
            except httpx.DecodingError as err:
                raise decoding_error(response, err) from err
            if delay is not None:
                self._retrying(call, url, delay, f"HTTP {response.status_code}", state)
                await _async_sleep(delay)
                continue
            return finish(call, reader.answer(), self._secret)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def clone_voice(
        self,
        audio: AudioInput,
        name: str,
        description: str | None = None,
        enhance_quality: bool = False,
        *,
        filename: str | None = None,
        check: bool = True,
    ) -> VoiceModel:
        """See `Client.clone_voice`."""
        return await self._send(
            ops.clone_voice(audio, name, description, enhance_quality, filename=filename, check=check)
        )

    async def get_model(self, model_id: str) -> VoiceModel:
        return await self._send(ops.get_model(model_id))

    async def delete_model(self, model_id: str) -> None:
        await self._send(ops.delete_model(model_id))

    async def text_to_speech(
        self, text: str, voice: str | Voice | VoiceModel, format: str = C.DEFAULT_OUTPUT_FORMAT
    ) -> Speech:
        return await self._send(ops.text_to_speech(text, voice, format))

    async def wait_for_model(
        self,
        model_id: str | VoiceModel,
        timeout: float = C.DEFAULT_WAIT_TIMEOUT,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> VoiceModel:
        """See `Client.wait_for_model`."""
        model_id = model_id.model_id if isinstance(model_id, VoiceModel) else model_id
        waiter = ops.ModelWaiter(model_id, timeout, on_progress, time.monotonic, self._secret)
        while True:
            call = ops.get_model(model_id)
            call.deadline = max(1.0, min(self.deadline, waiter.remaining()))
            model = await self._send(call)
            delay = waiter.observe(model)
            if delay is None:
                return model
            await _async_sleep(delay)

    async def iter_models(self, page_size: int = 100) -> AsyncIterator[VoiceModel]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            try:
                models, cursor = await self._send(ops.list_models_page(cursor, page_size))
            except NotFoundError as err:
                raise ops.ours_missing("GET /v1/models", "a listing of your voice models", err) from err
            for model in models:
                yield model
            if not cursor or cursor in seen:
                return
            seen.add(cursor)

    async def list_models(self) -> list[VoiceModel]:
        return [m async for m in self.iter_models()]

    async def list_voices(self) -> list[Voice]:
        try:
            return await self._send(ops.list_voices())
        except NotFoundError as err:
            raise ops.ours_missing("GET /v1/voices", "a listing of voices", err) from err

    async def sample_audio(self, sample: Sample, model: VoiceModel | None = None) -> Speech:
        if not sample.audio_url:
            raise InvalidInputError(f"The sample {sample.title!r} has no audio_url yet.")
        return await self._send(
            ops.fetch_audio(sample.audio_url, text=sample.text, voice=model.voice_id if model else None)
        )
