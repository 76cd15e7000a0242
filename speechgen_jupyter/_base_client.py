"""The core that `Client` and `AsyncClient` share: everything but the I/O.

Each API method is described once as a `Call` (what to send) plus a parser
(what the answer means). The sync and async clients differ only in how they
send a call and sleep between retries, so the retry policy, error mapping,
configuration and validation live here exactly once.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from . import _constants as C
from ._secret import Secret, scrub
from ._version import __version__
from .errors import (
    APIError,
    AudioValidationError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ConnectionError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    SpeechgenError,
    TimeoutError,
    UnsupportedMediaTypeError,
)

T = TypeVar("T")


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
    return status == 429 or status >= 500


class RetryState:
    """The bounded retry plan of one call.

    It answers one question after each failed attempt: how long to wait before
    the next, or None to give up. It gives up when the retries are spent, when
    the server asks for a wait longer than MAX_RETRY_AFTER, or when waiting
    would cross the call's deadline, so the total time is bounded by the
    deadline however the failures fall.
    """

    def __init__(self, max_retries: int, deadline: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_retries = max_retries
        self.clock = clock
        self.started = clock()
        self.deadline_at = self.started + deadline
        self.retries = 0

    def remaining(self) -> float:
        return self.deadline_at - self.clock()

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
}

_HINTS: dict[type[APIError], str] = {
    AuthenticationError: f"Check {C.API_KEY_ENV} (or run `%speechgen connect` to enter the key again).",
    RateLimitError: "Too many requests: wait a moment and try again, or lower the batch concurrency.",
}


def _error_body(response: httpx.Response) -> tuple[str | None, str | None, Any]:
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip() if response.content else ""
        return None, (text[:300] or None), None
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            code = error.get("code")
            message = error.get("message")
            return (str(code) if code else None), (str(message) if message else None), body
        if isinstance(error, str):
            return None, error, body
        if isinstance(body.get("message"), str):
            return None, body["message"], body
        if isinstance(body.get("detail"), str):
            return None, body["detail"], body
    return None, None, body


def status_error(response: httpx.Response, secret: Secret | None) -> APIError:
    """The `APIError` subclass for an error response, carrying the server's words."""
    status = response.status_code
    cls = _STATUS_ERRORS.get(status) or (ServerError if status >= 500 else APIError)
    code, message, body = _error_body(response)
    if not message:
        message = f"The Speechgen server answered {status} {response.reason_phrase or ''}".strip() + "."
    message = scrub(message, secret)
    hint = _HINTS.get(cls)
    if hint and hint not in message:
        message = f"{message} {hint}"
    kwargs: dict[str, Any] = dict(
        status=status, code=code, request_id=response.headers.get("x-request-id"), body=body
    )
    if cls is RateLimitError:
        kwargs["retry_after"] = parse_retry_after(response)
    return cls(message, **kwargs)


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


# --------------------------------------------------------------------------- parsing helpers


def parse_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError) as err:
        raise APIError(
            f"The server answered {response.status_code} with a body that is not JSON; is the base URL right?",
            status=response.status_code,
            request_id=response.headers.get("x-request-id"),
        ) from err


def parse_object(response: httpx.Response, key: str | None = None) -> Mapping[str, Any]:
    body = parse_json(response)
    if key is not None:
        body = body.get(key) if isinstance(body, Mapping) else None
    if not isinstance(body, Mapping):
        raise APIError(
            f"The server's answer to {response.request.method} {response.request.url.path} "
            f"is not the JSON object the API describes: {json.dumps(body)[:200]}",
            status=response.status_code,
        )
    return body


USER_AGENT = C.USER_AGENT.format(version=__version__)
