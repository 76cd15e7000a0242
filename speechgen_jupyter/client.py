"""`Client` and `AsyncClient`: the one way this package talks to Speechgen.

Both are thin: every operation is described once in `_operations`, and the
retry policy and error mapping live in `_base_client`. What differs is only
how a request is sent and how the client sleeps between retries.

Methods come in three groups, as the spec marks the API: the page's endpoints;
this project's extras (the listings), which fall back to the page's endpoints
and the record of the models made here when a server lacks them (`_extras`);
and the record itself (`track_model`, `forget_model`), kept on this computer
(`_record`) so that "your voice models" exist on a server that cannot list them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
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
from ._extras import ServerExtras, fill_in, is_absent, voices_of
from ._inputs import AudioInput
from ._record import ModelRecord, service_key
from ._secret import Secret
from .errors import APIError, InvalidInputError, NotFoundError, SpeechgenError
from .types import Sample, Speech, Voice, VoiceModel, WaitProgress

if TYPE_CHECKING:  # pragma: no cover
    from .cache import CacheKey, SpeechCache
    from .streaming import AsyncSpeechStream, SpeechStream

__all__ = ["Client", "AsyncClient"]

log = logging.getLogger("speechgen_jupyter")
# Module-level so tests can record the retry schedule without waiting it out.
_sleep = time.sleep
_async_sleep = anyio.sleep
T = TypeVar("T")
ProgressCallback = Callable[[WaitProgress], None]
#: How many models an AsyncClient refreshes at once when it lists them from the record.
_REFRESH_CONCURRENCY = 4


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
        extras: ServerExtras | None = None,
        cache: bool | SpeechCache = True,
        cache_scope: str | None = None,
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
        self._extras = extras or ServerExtras()
        self._record: ModelRecord | None = None
        if not isinstance(cache, bool) and type(cache).__name__ != "SpeechCache":
            raise TypeError(f"cache is True, False or a speechgen_jupyter.SpeechCache, not {type(cache).__name__}")
        self.cache = cache
        self._cache_scope = cache_scope

    @property
    def api_key(self) -> Secret:
        """The key, wrapped so that printing it shows nothing."""
        return self._secret

    @property
    def account(self) -> str:
        """A fingerprint of the account (see `Secret.fingerprint`): what records and caches on disk are keyed by."""
        return self._secret.fingerprint()

    @property
    def extras(self) -> ServerExtras:
        """What this server offers beyond Speechgen's page, as learnt so far (see `ServerExtras`)."""
        return self._extras

    @property
    def record(self) -> ModelRecord:
        """The voice models this account made or tracked on this server, as this computer remembers them."""
        if self._record is None:  # the account fingerprint costs ~50 ms: only when first needed
            self._record = ModelRecord(service_key(self.base_url), self.account)
        return self._record

    def _learn(self, extra: str, err: APIError | None) -> bool:
        """After an (ours) endpoint answered: True if it is there; False (remembered) if the server lacks it."""
        if err is None:
            self._extras.learn(extra, True)
            return True
        if not is_absent(err):
            return True
        log.debug("This server does not offer %s (%s); using the page's endpoints and the record", extra, err)
        self._extras.learn(extra, False)
        return False

    @property
    def cache_scope(self) -> str:
        """What, besides the request, decides this client's audio: the service and the account (never the key).

        The bundled local server speaks the same with any key on any port, so
        `connect_local` gives its client a scope of its own (see
        `LocalServer.cache_scope`) and the next kernel's server finds its speech.
        """
        return self._cache_scope or f"{self.base_url}|{self.account}"

    def _speech_cache(self, use: bool | None) -> SpeechCache | None:
        """The cache a call uses: none when asked (`cache=False` here or on the client), else the client's or the user's."""
        if use is False or (use is None and self.cache is False):
            return None
        if not isinstance(self.cache, bool):
            return self.cache
        from .cache import default_cache

        return default_cache()

    def _cache_key(self, call: Call[Any]) -> CacheKey:
        from .cache import speech_key

        return speech_key(self.cache_scope, call.method, call.url, call.json)

    def _deleted_voice_cache(self) -> SpeechCache | None:
        """The cache a deleted model's voice must leave, if there is one yet (no folder is made for it)."""
        from .cache import default_cache

        store = self.cache if not isinstance(self.cache, bool) else default_cache()
        return store if store.exists() else None

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
        cache: bool | SpeechCache = True,
        cache_scope: str | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries, deadline=deadline,
            max_audio_bytes=max_audio_bytes, cache=cache, cache_scope=cache_scope,
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

    def to_async(self, *, transport: httpx.AsyncBaseTransport | None = None) -> AsyncClient:
        """An `AsyncClient` with the same settings (the cache's included) and its own connection pool.

        `transport` wraps or replaces the network transport (a batch adds its adaptive concurrency there).
        """
        twin = AsyncClient(
            api_key=self._secret, base_url=self.base_url, timeout=self.timeout,
            max_retries=self.max_retries, deadline=self.deadline, max_audio_bytes=self.max_audio_bytes,
            transport=transport, cache=self.cache, cache_scope=self._cache_scope,
        )
        twin._extras = self._extras  # the same server: what one learnt, the other knows
        twin._record = self._record
        return twin

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
        The new model is remembered on this computer (see `record`).
        """
        model = self._send(ops.clone_voice(audio, name, description, enhance_quality, filename=filename, check=check))
        self.record.remember(model)
        return model

    def get_model(self, model_id: str) -> VoiceModel:
        """The model as the server has it now, with what the record knows filled in (its samples, say).

        A model the server no longer has (404) is dropped from the record.
        """
        model_id = ops.check_model_id(model_id)
        try:
            model = self._send(ops.get_model(model_id))
        except NotFoundError:
            self.record.forget(model_id)
            raise
        known = self.record.get(model_id)
        model = fill_in(model, known)
        self.record.update(model, known)
        return model

    def delete_model(self, model_id: str | VoiceModel) -> None:
        """Delete the model on the server (it cannot be undone) and from the record.

        The speech cache then drops what the model's voice said. Its voice_id
        comes from the model given, else the record, else (only when there is
        a cache folder) a GET just before the DELETE.
        """
        model_id, voice = ops.model_and_voice(model_id)
        model_id = ops.check_model_id(model_id)
        store = self._deleted_voice_cache()
        if store is not None and voice is None:
            known = self.record.get(model_id)
            voice = known.voice_id if known is not None else None
            if voice is None:
                try:
                    voice = self._send(ops.get_model(model_id)).voice_id
                except SpeechgenError:
                    voice = None  # the DELETE below says what is wrong, if anything is
        try:
            self._send(ops.delete_model(model_id))
        except NotFoundError:
            self.record.forget(model_id)  # gone already: not a model to remember either
            raise
        self.record.forget(model_id)
        if store is not None and voice:
            ops.forget_voice(store, self.cache_scope, voice)

    def text_to_speech(
        self,
        text: str,
        voice: str | Voice | VoiceModel,
        format: str = C.DEFAULT_OUTPUT_FORMAT,
        *,
        cache: bool | None = None,
    ) -> Speech:
        """Speak `text` with a voice_id (a built-in voice or a ready clone).

        The result is kept in the speech cache, and the same request again is
        answered from it without a request; `cache=False` skips the cache for
        this call (`Client(cache=False)` for every call).
        """
        return self._speak(text, voice, format, cache)[0]

    def _speak(self, text: str, voice: str | Voice | VoiceModel, fmt: str, cache: bool | None) -> tuple[Speech, bool]:
        """(speech, found in the cache): one text-to-speech request, through the cache when it is on."""
        call = ops.text_to_speech(text, voice, fmt)
        store = self._speech_cache(cache)
        if store is None:
            return self._send(call), False
        key = self._cache_key(call)
        hit = ops.cache_get(store, key, call)
        if hit is not None:
            return hit, True
        speech = self._send(call)
        ops.cache_put(store, key, speech)  # as each request completes: an interrupted batch keeps it
        return speech, False

    def stream_speech(
        self,
        text: str,
        voice: str | Voice | VoiceModel,
        format: str = C.DEFAULT_OUTPUT_FORMAT,
        *,
        lookahead: int | None = None,
        max_chars: int = C.MAX_TEXT_CHARS,
        cache: bool | None = None,
    ) -> SpeechStream:
        """Speak a text of any length as a stream of parts, in order, the first as soon as it is spoken.

        At most `lookahead` requests are in flight (3); each part is a whole
        clip, cached on its own; once the last is in, `stream.speech` is the
        joined clip. `close()` (or leaving a `with` block) sends nothing more.
        See `speechgen_jupyter.streaming`.
        """
        from ._streamplan import StreamPlan
        from .streaming import DEFAULT_LOOKAHEAD, SpeechStream

        plan = StreamPlan(ops.check_stream_text(text), ops.check_voice(voice), format, max_chars)
        return SpeechStream(self, plan, lookahead=DEFAULT_LOOKAHEAD if lookahead is None else lookahead, cache=cache)

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
        given = model_id if isinstance(model_id, VoiceModel) else None
        model_id = ops.check_model_id(given.model_id if given else model_id)
        known = self.record.get(model_id) or given  # the 201's estimate: the page's GET has none
        waiter = ops.ModelWaiter(model_id, timeout, on_progress, time.monotonic, self._secret)
        status = known.status if known else None
        while True:
            call = ops.get_model(model_id)
            call.deadline = max(1.0, min(self.deadline, waiter.remaining()))
            try:
                model = fill_in(self._send(call), known)
            except NotFoundError:
                self.record.forget(model_id)
                raise
            if model.status != status:
                status = model.status
                self.record.update(model)
            delay = waiter.observe(model)
            if delay is None:
                return model
            _sleep(delay)

    # ------------------------------------------------------------------ (ours) listings, with the page's fallback

    def iter_models(self, page_size: int = 100) -> Iterator[VoiceModel]:
        """Every voice model: the server's listing (page by page), or else the ones made or tracked here.

        Without GET /v1/models (the page documents none), the record's models
        are each refreshed with GET /v1/models/{model_id}; those the server no
        longer has are dropped from the record. `extras.model_listing` says which.
        """
        if self._extras.model_listing is not False:
            try:
                first = self._send(ops.list_models_page(None, page_size))
            except APIError as err:
                if self._learn("model_listing", err):
                    raise
            else:
                self._learn("model_listing", None)
                yield from self._listed(first, page_size)
                return
        for known in self.record.models():
            try:
                model = fill_in(self._send(ops.get_model(known.model_id)), known)
            except NotFoundError:
                self.record.forget(known.model_id)  # deleted elsewhere
                continue
            self.record.remember(model)
            yield model

    def _listed(self, first: tuple[list[VoiceModel], str | None], page_size: int) -> Iterator[VoiceModel]:
        known = {m.model_id: m for m in self.record.models()}
        models, cursor = first
        seen: set[str] = set()
        while True:
            for model in models:
                yield fill_in(model, known.get(model.model_id))
            if not cursor or cursor in seen:
                return
            seen.add(cursor)
            models, cursor = self._send(ops.list_models_page(cursor, page_size))

    def list_models(self) -> list[VoiceModel]:
        """`iter_models()` as a list."""
        return list(self.iter_models())

    def list_voices(self, *, models: Iterable[VoiceModel] | None = None) -> list[Voice]:
        """The voices text-to-speech takes: the server's voice listing, or else the ready voices of your models.

        Without GET /v1/voices, the voices are those of the ready models among
        `models` (default: `list_models()`; pass what you have to save the requests).
        """
        if self._extras.voice_listing is not False:
            try:
                voices = self._send(ops.list_voices())
            except APIError as err:
                if self._learn("voice_listing", err):
                    raise
            else:
                self._learn("voice_listing", None)
                return voices
        return voices_of(self.list_models() if models is None else models)

    # ------------------------------------------------------------------ the record (this computer's)

    def track_model(self, model_id: str) -> VoiceModel:
        """Remember a model made elsewhere (with the page's curl example, say), after checking it exists.

        From then on it is one of "your voice models" here: listed, with its voice offered.
        """
        model_id = ops.check_model_id(model_id)
        model = self._send(ops.get_model(model_id))
        self.record.remember(model)
        return fill_in(model, self.record.get(model_id))

    def forget_model(self, model_id: str) -> bool:
        """Stop remembering a model, without deleting it (`track_model` brings it back); True if it was remembered."""
        return self.record.forget(ops.check_model_id(model_id))

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
        cache: bool | SpeechCache = True,
        cache_scope: str | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries, deadline=deadline,
            max_audio_bytes=max_audio_bytes, cache=cache, cache_scope=cache_scope,
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
        model = await self._send(
            ops.clone_voice(audio, name, description, enhance_quality, filename=filename, check=check)
        )
        await _off_loop(self.record.remember, model)
        return model

    async def get_model(self, model_id: str) -> VoiceModel:
        """See `Client.get_model`."""
        model_id = ops.check_model_id(model_id)
        try:
            model = await self._send(ops.get_model(model_id))
        except NotFoundError:
            await _off_loop(self.record.forget, model_id)
            raise
        known = await _off_loop(self.record.get, model_id)
        model = fill_in(model, known)
        await _off_loop(self.record.update, model, known)
        return model

    async def delete_model(self, model_id: str | VoiceModel) -> None:
        """See `Client.delete_model`."""
        model_id, voice = ops.model_and_voice(model_id)
        model_id = ops.check_model_id(model_id)
        store = await _off_loop(self._deleted_voice_cache)
        if store is not None and voice is None:
            known = await _off_loop(self.record.get, model_id)
            voice = known.voice_id if known is not None else None
            if voice is None:
                try:
                    voice = (await self._send(ops.get_model(model_id))).voice_id
                except SpeechgenError:
                    voice = None
        try:
            await self._send(ops.delete_model(model_id))
        except NotFoundError:
            await _off_loop(self.record.forget, model_id)
            raise
        await _off_loop(self.record.forget, model_id)
        if store is not None and voice:
            await _off_loop(ops.forget_voice, store, self.cache_scope, voice)

    async def text_to_speech(
        self,
        text: str,
        voice: str | Voice | VoiceModel,
        format: str = C.DEFAULT_OUTPUT_FORMAT,
        *,
        cache: bool | None = None,
    ) -> Speech:
        """See `Client.text_to_speech`."""
        return (await self._speak(text, voice, format, cache))[0]

    async def _speak(
        self, text: str, voice: str | Voice | VoiceModel, fmt: str, cache: bool | None
    ) -> tuple[Speech, bool]:
        call = ops.text_to_speech(text, voice, fmt)
        store = self._speech_cache(cache)
        if store is None:
            return await self._send(call), False
        key = self._cache_key(call)
        hit = await _off_loop(ops.cache_get, store, key, call)  # the disk, never on the event loop
        if hit is not None:
            return hit, True
        speech = await self._send(call)
        await _off_loop(ops.cache_put, store, key, speech)
        return speech, False

    def stream_speech(
        self,
        text: str,
        voice: str | Voice | VoiceModel,
        format: str = C.DEFAULT_OUTPUT_FORMAT,
        *,
        lookahead: int | None = None,
        max_chars: int = C.MAX_TEXT_CHARS,
        cache: bool | None = None,
    ) -> AsyncSpeechStream:
        """See `Client.stream_speech`; use it as `async with aclient.stream_speech(...) as stream:`."""
        from ._streamplan import StreamPlan
        from .streaming import DEFAULT_LOOKAHEAD, AsyncSpeechStream

        plan = StreamPlan(ops.check_stream_text(text), ops.check_voice(voice), format, max_chars)
        return AsyncSpeechStream(self, plan, lookahead=DEFAULT_LOOKAHEAD if lookahead is None else lookahead, cache=cache)

    async def wait_for_model(
        self,
        model_id: str | VoiceModel,
        timeout: float = C.DEFAULT_WAIT_TIMEOUT,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> VoiceModel:
        """See `Client.wait_for_model`."""
        given = model_id if isinstance(model_id, VoiceModel) else None
        model_id = ops.check_model_id(given.model_id if given else model_id)
        known = await _off_loop(self.record.get, model_id) or given
        waiter = ops.ModelWaiter(model_id, timeout, on_progress, time.monotonic, self._secret)
        status = known.status if known else None
        while True:
            call = ops.get_model(model_id)
            call.deadline = max(1.0, min(self.deadline, waiter.remaining()))
            try:
                model = fill_in(await self._send(call), known)
            except NotFoundError:
                await _off_loop(self.record.forget, model_id)
                raise
            if model.status != status:
                status = model.status
                await _off_loop(self.record.update, model)
            delay = waiter.observe(model)
            if delay is None:
                return model
            await _async_sleep(delay)

    async def iter_models(self, page_size: int = 100) -> AsyncIterator[VoiceModel]:
        """See `Client.iter_models`; the record's models are refreshed a few at a time."""
        if self._extras.model_listing is not False:
            try:
                models, cursor = await self._send(ops.list_models_page(None, page_size))
            except APIError as err:
                if self._learn("model_listing", err):
                    raise
            else:
                self._learn("model_listing", None)
                known = {m.model_id: m for m in await _off_loop(self.record.models)}
                seen: set[str] = set()
                while True:
                    for model in models:
                        yield fill_in(model, known.get(model.model_id))
                    if not cursor or cursor in seen:
                        return
                    seen.add(cursor)
                    models, cursor = await self._send(ops.list_models_page(cursor, page_size))
        for model in await self._refreshed(await _off_loop(self.record.models)):
            yield model

    async def _refreshed(self, remembered: list[VoiceModel]) -> list[VoiceModel]:
        """Each remembered model as the server has it now (in the record's order); the gone ones dropped."""
        results: list[VoiceModel | None] = [None] * len(remembered)
        limiter = anyio.CapacityLimiter(_REFRESH_CONCURRENCY)

        async def refresh(i: int, known: VoiceModel) -> None:
            async with limiter:
                try:
                    model = fill_in(await self._send(ops.get_model(known.model_id)), known)
                except NotFoundError:
                    await _off_loop(self.record.forget, known.model_id)
                    return
            await _off_loop(self.record.remember, model)
            results[i] = model

        async with anyio.create_task_group() as tasks:
            for i, known in enumerate(remembered):
                tasks.start_soon(refresh, i, known)
        return [m for m in results if m is not None]

    async def list_models(self) -> list[VoiceModel]:
        return [m async for m in self.iter_models()]

    async def list_voices(self, *, models: Iterable[VoiceModel] | None = None) -> list[Voice]:
        """See `Client.list_voices`."""
        if self._extras.voice_listing is not False:
            try:
                voices = await self._send(ops.list_voices())
            except APIError as err:
                if self._learn("voice_listing", err):
                    raise
            else:
                self._learn("voice_listing", None)
                return voices
        return voices_of(await self.list_models() if models is None else models)

    async def track_model(self, model_id: str) -> VoiceModel:
        """See `Client.track_model`."""
        model_id = ops.check_model_id(model_id)
        model = await self._send(ops.get_model(model_id))
        await _off_loop(self.record.remember, model)
        return fill_in(model, await _off_loop(self.record.get, model_id))

    async def forget_model(self, model_id: str) -> bool:
        """See `Client.forget_model`."""
        return await _off_loop(self.record.forget, ops.check_model_id(model_id))

    async def sample_audio(self, sample: Sample, model: VoiceModel | None = None) -> Speech:
        if not sample.audio_url:
            raise InvalidInputError(f"The sample {sample.title!r} has no audio_url yet.")
        return await self._send(
            ops.fetch_audio(sample.audio_url, text=sample.text, voice=model.voice_id if model else None)
        )


async def _off_loop(function: Callable[..., T], *args: Any) -> T:
    """Run a record operation (SQLite, which may wait for another kernel's write) off the event loop."""
    return await anyio.to_thread.run_sync(lambda: function(*args))
