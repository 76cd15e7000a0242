"""The core that `Client` and `AsyncClient` share: everything but the I/O.

Each API method is described once as a `Call` (what to send) plus a parser
(what the answer means). The sync and async clients differ only in how they
send a call and sleep between retries, so the retry policy, error mapping,
configuration and validation live here exactly once.
"""

from __future__ import annotations

import email.utils
import io
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import httpx

from . import _constants as C
from ._content import HEAD_BYTES, identify
from ._secret import Secret, scrub, scrub_value
from ._version import __version__
from .errors import (
    APIError,
    AudioValidationError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ConnectionError,
    InsufficientStorageError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
    ServerError,
    SpeechgenError,
    TimeoutError,
    UnexpectedResponseError,
    UnsupportedMediaTypeError,
)

T = TypeVar("T")
#: What a successful answer's body must be: a JSON document, audio, or anything (ignored, as a 204's).
Expect = Literal["json", "audio", "none"]


# --------------------------------------------------------------------------- configuration


def resolve_api_key(api_key: str | Secret | None) -> Secret:
    """The key from the argument, else the environment, read when the client is built."""
    if isinstance(api_key, Secret):
        value = api_key.reveal()
    else:
        value = api_key if api_key is not None else os.environ.get(C.API_KEY_ENV)
    if not value or not value.strip():
        raise ConfigurationError(
            f"No Speechgen API key. Set the {C.API_KEY_ENV} environment variable before starting Jupyter "
            f"(or run `%speechgen connect`, which asks for it without showing it), or pass Client(api_key=...). "
            f"To try everything offline instead, unset {C.BASE_URL_ENV} and {C.API_KEY_ENV}: "
            f"the shared client then starts the local server."
        )
    value = value.strip()
    if any(ch.isspace() for ch in value) or not value.isprintable():
        raise ConfigurationError(
            "The Speechgen API key contains spaces or control characters; copy it again without them."
        )
    return Secret(value)


def resolve_base_url(base_url: str | httpx.URL | None) -> httpx.URL:
    raw = str(base_url) if base_url is not None else os.environ.get(C.BASE_URL_ENV) or C.DEFAULT_BASE_URL
    try:
        url = httpx.URL(raw.strip())
    except Exception as err:  # httpx raises InvalidURL and friends
        raise ConfigurationError(f"{raw!r} is not a valid Speechgen base URL: {err}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"{raw!r} is not a valid Speechgen base URL; it should look like {C.DEFAULT_BASE_URL} "
            f"or http://127.0.0.1:8765"
        )
    path = url.path if url.path.endswith("/") else url.path + "/"
    return url.copy_with(path=path, query=None, fragment=None)


def build_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(C.DEFAULT_REQUEST_TIMEOUT if timeout is None else timeout, connect=C.DEFAULT_CONNECT_TIMEOUT)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


class BearerAuth(httpx.Auth):
    """Adds the key only to requests for the API's own origin.

    A sample's `audio_url` may point at a CDN on another host; the key must
    never travel there.
    """

    def __init__(self, secret: Secret, base_url: httpx.URL) -> None:
        self._secret = secret
        self._origin = _origin(base_url)

    def auth_flow(self, request: httpx.Request):  # type: ignore[override]
        if _origin(request.url) == self._origin:
            request.headers["Authorization"] = "Bearer " + self._secret.reveal()
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"


# --------------------------------------------------------------------------- calls


@dataclass
class Call(Generic[T]):
    """One API operation: what to send and how to read the answer.

    Built once per user call, so what must stay the same across retries (the
    idempotency key, the upload's bytes) is fixed here and re-sent whole.
    """

    method: str
    url: str  # relative to the base URL, or absolute (a sample's audio_url)
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    data: Mapping[str, str] | None = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    deadline: float | None = None  # seconds for the whole call, retries included
    expect: Expect = "json"  # decides how much of the answer is read (see body_limit)

    def build(self, http: httpx.Client | httpx.AsyncClient, url: httpx.URL, timeout: httpx.Timeout) -> httpx.Request:
        return http.build_request(
            self.method,
            url,
            params=self.params,
            json=self.json,
            data=self.data,
            files=self.files,
            headers=self.headers,
            timeout=timeout,
        )


def new_idempotency_key() -> str:
    return f"sgj-{uuid.uuid4()}"


# --------------------------------------------------------------------------- retries


def parse_retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), or None."""
    value = response.headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def is_retryable_status(status: int) -> bool:
    """429 and the 5xx answers that may go away on their own; never the ones that say it will fail again."""
    return status == 429 or (status >= 500 and status not in C.NON_RETRYABLE_5XX)


class RetryState:
    """The bounded retry plan of one call.

    It answers one question after each failed attempt: how long to wait before
    the next, or None to give up. It gives up when the retries are spent, when
    the server asks for a wait longer than MAX_RETRY_AFTER, or when waiting
    would cross the call's deadline, so the total time is bounded by the
    deadline however the failures fall.

    Why ours and not tenacity, stamina or backoff (compared for issue 15):
    those wrap the call and own the loop, while here the sync and async
    clients keep their own small loops (closing a failed response before the
    sleep, resending the same idempotency key) around this one I/O-free plan,
    as openai-python does. What it adds is what they lack or need glue for:
    each attempt's timeout clipped to what is left of the deadline, a
    Retry-After (seconds, an HTTP date, or retry-after-ms) honoured and capped,
    and no sleep begun that would end past the deadline. Those are ~40 lines;
    a library would add a dependency to every notebook and still need the glue.
    """

    def __init__(self, max_retries: int, deadline: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_retries = max_retries
        self.clock = clock
        self.started = clock()
        self.deadline_at = self.started + deadline
        self.retries = 0

    def remaining(self) -> float:
        return self.deadline_at - self.clock()

    def expired(self) -> bool:
        # A timeout clipped to the deadline ends at it, give or take a timer's resolution.
        return self.remaining() <= 0.01

    def attempt_timeout(self, timeout: httpx.Timeout) -> httpx.Timeout:
        """The per-attempt timeout, shortened so one attempt cannot outlive the deadline."""
        left = max(0.01, self.remaining())

        def clip(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=clip(timeout.connect), read=clip(timeout.read), write=clip(timeout.write), pool=clip(timeout.pool)
        )

    def next_delay(self, response: httpx.Response | None = None) -> float | None:
        if self.retries >= self.max_retries:
            return None
        delay: float | None = None
        if response is not None:
            retry_after = parse_retry_after(response)
            if retry_after is not None:
                if retry_after > C.MAX_RETRY_AFTER:
                    return None
                delay = retry_after
        if delay is None:
            backoff = min(C.INITIAL_RETRY_DELAY * (2**self.retries), C.MAX_RETRY_DELAY)
            delay = backoff * (1 - 0.25 * random.random())
        if delay >= self.remaining():
            return None
        self.retries += 1
        return delay


def retry_delay(response: httpx.Response, state: RetryState) -> float | None:
    """Seconds to wait before retrying after this answer, or None to read it (a success, or the error to raise)."""
    if response.is_success or not is_retryable_status(response.status_code):
        return None
    return state.next_delay(response)


# --------------------------------------------------------------------------- errors

_STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: AudioValidationError,
    429: RateLimitError,
    507: InsufficientStorageError,
}

_HINTS: dict[type[APIError], str] = {
    AuthenticationError: f"Check {C.API_KEY_ENV} (or run `%speechgen connect` to enter the key again).",
    RateLimitError: "Too many requests: wait a moment and try again, or lower the batch concurrency.",
    InsufficientStorageError: (
        "It was not retried: until the server has room (or can write) again, the same request fails the same way."
    ),
}


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _error_body(response: httpx.Response) -> tuple[str | None, str | None, Any]:
    """(code, message, parsed body) of an error answer; only strings are taken as code and message."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip() if response.content else ""
        return None, (text[:300] or None), None
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            return _text_or_none(error.get("code")), _text_or_none(error.get("message")), body
        if isinstance(error, str):
            return None, error, body
        if isinstance(body.get("message"), str):
            return None, body["message"], body
        if isinstance(body.get("detail"), str):
            return None, body["detail"], body
    return None, None, body


def status_error(response: httpx.Response, secret: Secret | None) -> APIError:
    """The `APIError` subclass for an error response, carrying the server's words (the key scrubbed out of all of them)."""
    status = response.status_code
    cls = _STATUS_ERRORS.get(status) or (ServerError if status >= 500 else APIError)
    code, message, body = _error_body(response)
    if not message:
        message = f"The Speechgen server answered {status} {response.reason_phrase or ''}".strip() + "."
    message = scrub(message, secret)
    hint = _HINTS.get(cls)
    if hint and hint not in message:
        message = f"{message} {hint}"
    request_id = response.headers.get("x-request-id")
    kwargs: dict[str, Any] = dict(
        status=status,
        code=scrub(code, secret) if code else None,
        request_id=scrub(request_id, secret) if request_id else None,
        body=scrub_value(body, secret),
    )
    if cls is RateLimitError:
        kwargs["retry_after"] = parse_retry_after(response)
    return cls(message, **kwargs)


def scrub_error(err: SpeechgenError, secret: Secret | None) -> SpeechgenError:
    """Remove the key from everything an error raised while reading an answer keeps (in place)."""
    err.message = scrub(err.message, secret)
    err.args = tuple(scrub(a, secret) if isinstance(a, str) else a for a in err.args)
    if isinstance(err, APIError):
        err.body = scrub_value(err.body, secret)
        err.code = scrub(err.code, secret) if err.code else err.code
    return err


def forget_key(err: httpx.HTTPError) -> None:
    """Take the key out of the request a failed httpx call keeps, since our error chains to it (`__cause__`).

    The request was built for this one attempt and is not sent again.
    """
    try:
        request = err.request
    except RuntimeError:  # an httpx error raised before it had a request
        return
    if "authorization" in request.headers:
        request.headers["Authorization"] = "<redacted>"


def transport_error(err: httpx.HTTPError, url: httpx.URL, attempts: int) -> SpeechgenError:
    tried = f" (tried {attempts} time{'s' if attempts != 1 else ''})"
    where = f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"
    if isinstance(err, httpx.TimeoutException):
        return TimeoutError(
            f"The Speechgen server at {where} did not answer in time{tried}. "
            f"Try again, or give the client a longer timeout: Client(timeout=120)."
        )
    detail = str(err).strip().rstrip(".")
    return ConnectionError(
        f"Could not reach the Speechgen server at {where}{tried}: {type(err).__name__}"
        f"{': ' + detail if detail else ''}. Check the network and the base URL."
    )


def deadline_error(call: Call[Any], url: httpx.URL, state: RetryState, received: int | None = None) -> TimeoutError:
    """The whole call ran out of time (see `_deadline`): say which deadline, and what to do."""
    where = f"{call.method} {url.path}"
    tries = state.retries + 1
    detail = f" after {tries} attempts" if tries > 1 else ""
    if received:
        detail += f"; the answer was still arriving ({received:,} bytes so far)"
    return TimeoutError(
        f"{where} did not finish within its deadline of {state.deadline_at - state.started:g} s{detail}. "
        f"Try again, or give the client a longer deadline: Client(deadline=300)."
    )


# --------------------------------------------------------------------------- reading answers


def finish(call: Call[T], answer: httpx.Response, secret: Secret | None) -> T:
    """What the call returns for a read answer, or the error it raises (with the key scrubbed from it)."""
    if not answer.is_success:
        raise status_error(answer, secret)
    try:
        return call.parse(answer)
    except SpeechgenError as err:
        raise scrub_error(err, secret) from err.__cause__


def body_limit(call: Call[Any], response: httpx.Response, max_audio_bytes: int) -> tuple[int, bool]:
    """(bytes to read at most, whether going past them is refused rather than cut off).

    A successful answer over its cap is refused: keeping part of a speech or
    of a JSON document would be pretending. Of an error answer only the
    message is shown, so it is simply cut off.
    """
    if not response.is_success:
        return C.MAX_ERROR_BODY_BYTES, False
    if call.expect == "audio":
        return max_audio_bytes, True
    return C.MAX_JSON_RESPONSE_BYTES, True


class BodyReader:
    """Collects a streamed answer within its cap and the call's deadline; the I/O is the caller's.

    It refuses a declared Content-Length over the cap before a byte is read,
    and a body that streams past it the moment it does, so the client never
    holds more than the cap (plus one network chunk). Chunks go into a BytesIO,
    whose `getvalue()` hands over its buffer without a copy.
    """

    def __init__(self, call: Call[Any], response: httpx.Response, state: RetryState, max_audio_bytes: int) -> None:
        self.call = call
        self.response = response
        self.state = state
        self.limit, self.refuse = body_limit(call, response, max_audio_bytes)
        self.size = 0
        self.done = False
        self._buffer = io.BytesIO()
        declared = _content_length(response)
        if declared is not None and declared > self.limit and self.refuse:
            raise self._too_large(declared)

    def feed(self, chunk: bytes) -> bool:
        """Take one chunk; True when nothing more is to be read."""
        if self.size + len(chunk) > self.limit:
            if self.refuse:
                raise self._too_large(None)
            chunk = chunk[: self.limit - self.size]
            self.done = True
        self._buffer.write(chunk)
        self.size += len(chunk)
        if not self.done and self.state.expired():
            raise deadline_error(self.call, self.response.request.url, self.state, self.size)
        return self.done

    def answer(self) -> httpx.Response:
        """The response with its body loaded, for the parsers (which read `.content`, `.json()`, headers)."""
        headers = [(k, v) for k, v in self.response.headers.multi_items() if k.lower() not in _FRAMING_HEADERS]
        return httpx.Response(
            self.response.status_code,
            headers=headers,
            content=self._buffer.getvalue(),
            request=self.response.request,
            extensions={"reason_phrase": self.response.reason_phrase.encode("ascii", "replace")},
        )

    def _too_large(self, declared: int | None) -> ResponseTooLargeError:
        request = self.response.request
        what = "audio" if self.call.expect == "audio" else "answer"
        size = f"declares {declared:,} bytes" if declared is not None else f"went past {self.limit:,} bytes"
        fix = (
            "If you expect speech this long, raise the cap: Client(max_audio_bytes=...); otherwise check the base URL."
            if self.call.expect == "audio"
            else "Check the base URL: no Speechgen answer is this large."
        )
        return ResponseTooLargeError(
            f"The server's {what} to {request.method} {request.url.path} {size}, more than the client takes "
            f"({self.limit:,} bytes); nothing of it was kept. {fix}",
            status=self.response.status_code,
            request_id=self.response.headers.get("x-request-id"),
            content_type=self.response.headers.get("content-type"),
            limit=self.limit,
            size=declared,
        )


# Headers that described the bytes on the wire, not the decoded body the parsers get.
_FRAMING_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _content_length(response: httpx.Response) -> int | None:
    raw = response.headers.get("content-length", "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() else None


def decoding_error(response: httpx.Response, err: httpx.DecodingError) -> UnexpectedResponseError:
    encoding = response.headers.get("content-encoding", "its encoding")
    return UnexpectedResponseError(
        f"The server's answer to {response.request.method} {response.request.url.path} could not be decoded "
        f"(Content-Encoding {encoding}: {err}); it was damaged on the way. Try again, or check the base URL.",
        status=response.status_code,
        request_id=response.headers.get("x-request-id"),
        content_type=response.headers.get("content-type"),
    )


# --------------------------------------------------------------------------- parsing helpers

# A body labelled as one of these may hold audio; its signature decides. Anything else
# (text/html, application/json...) is a page or a message, whatever its first bytes.
_AUDIO_LABELS = ("application/ogg", "application/octet-stream", "binary/octet-stream", "video/mp4", "video/ogg", "")


def parse_audio(response: httpx.Response) -> tuple[bytes, str]:
    """(the audio bytes, their format by signature) from a 200, or `UnexpectedResponseError` naming what came.

    Both must hold: a Content-Type that can label audio (audio/*, or a generic
    binary type, as some CDNs send) and bytes that start like MP3, WAV, OGG,
    FLAC or M4A. The format is the bytes', not the header's: they are what will
    be played and saved.
    """
    data = response.content
    content_type = response.headers.get("content-type")
    content = identify(data[:HEAD_BYTES], content_type, len(data))
    labelled = content.media_type.startswith("audio/") or content.media_type in _AUDIO_LABELS
    if content.is_audio and labelled and content.audio_format:
        return data, content.audio_format
    request = response.request
    if content.kind in ("html", "text"):
        why = "a proxy, a login page or a wrong base URL may have answered instead of the Speechgen API"
    elif content.is_audio:
        why = "its Content-Type does not say audio"
    else:
        why = "that is not audio"
    raise UnexpectedResponseError(
        f"Expected audio from {request.method} {request.url.path}, but the server answered "
        f"{response.status_code} with {content.describe()}: {why}. Check the base URL "
        f"(SPEECHGEN_BASE_URL) and the network, then try again.",
        status=response.status_code,
        request_id=response.headers.get("x-request-id"),
        content_type=content_type,
    )



def parse_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        pass
    content = identify(response.content[:HEAD_BYTES], response.headers.get("content-type"), len(response.content))
    raise UnexpectedResponseError(
        f"The server answered {response.request.method} {response.request.url.path} with {content.describe()}, "
        f"not JSON as the API describes. Check the base URL (SPEECHGEN_BASE_URL) and the network, then try again.",
        status=response.status_code,
        request_id=response.headers.get("x-request-id"),
        content_type=response.headers.get("content-type"),
    )


def parse_object(response: httpx.Response, key: str | None = None) -> Mapping[str, Any]:
    body = parse_json(response)
    if key is not None:
        body = body.get(key) if isinstance(body, Mapping) else None
    if not isinstance(body, Mapping):
        raise UnexpectedResponseError(
            f"The server's answer to {response.request.method} {response.request.url.path} "
            f"is not the JSON object the API describes: {json.dumps(body)[:200]}. Check the base URL.",
            status=response.status_code,
            request_id=response.headers.get("x-request-id"),
            content_type=response.headers.get("content-type"),
        )
    return body


USER_AGENT = C.USER_AGENT.format(version=__version__)
