"""One error hierarchy that reads like the API's status table.

Every failure a user can meet is a `SpeechgenError`, so a notebook can catch
one class; the subclasses say which row of the table it was, so code can
react (retry a rate limit, fix a sample, set a key). Each carries what the
server said (status, machine code, message, request id) and never the API key:
messages are built from the server's words and our own, not from requests.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "SpeechgenError",
    "ConfigurationError",
    "InvalidInputError",
    "APIError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "PayloadTooLargeError",
    "UnsupportedMediaTypeError",
    "AudioValidationError",
    "RateLimitError",
    "ServerError",
    "InsufficientStorageError",
    "UnexpectedResponseError",
    "ResponseTooLargeError",
    "ServerNotAvailableError",
    "ConnectionError",
    "TimeoutError",
    "ModelFailedError",
]


class SpeechgenError(Exception):
    """The root of every error this package raises on purpose."""

    #: Magics and widgets show a `SpeechgenError` as a short message with no
    #: traceback: it is something the user can act on, not a bug.
    user_facing: bool = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(SpeechgenError):
    """The client cannot be built as asked (no key, bad base URL...)."""


class InvalidInputError(SpeechgenError, ValueError):
    """An argument is wrong, found before anything was sent (empty text, unknown format...)."""


class APIError(SpeechgenError):
    """The server answered with an error status.

    `status` is the HTTP status, `code` the server's machine-readable code (when
    it sent one), `message` its explanation, `request_id` what to quote when
    asking the provider for help.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        parts = [self.message]
        detail = ", ".join(
            f"{k} {v}" for k, v in (("HTTP", self.status), ("code", self.code), ("request id", self.request_id)) if v
        )
        if detail:
            parts.append(f"({detail})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"


class BadRequestError(APIError):
    """400: the request itself is malformed or a field is missing or invalid."""


class AuthenticationError(APIError):
    """401: the API key is missing or wrong."""


class PermissionDeniedError(APIError):
    """403: the key is valid but may not do this."""


class NotFoundError(APIError):
    """404: no such voice model (or it was deleted)."""


class ConflictError(APIError):
    """409: the request conflicts with the model's current state."""


class AudioValidationError(APIError):
    """The sample breaks one of the page's audio requirements.

    Raised by the client *before* any upload when it can tell (size, format,
    duration), and for the server's 422 when only the server can tell (no
    speech, several speakers, too noisy). `filename` names the sample.
    """

    def __init__(self, message: str, *, filename: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.filename = filename


class PayloadTooLargeError(AudioValidationError):
    """413: the file is over the 10 MB limit."""


class UnsupportedMediaTypeError(AudioValidationError):
    """415: the file is not MP3, WAV, M4A, FLAC or OGG audio."""


class RateLimitError(APIError):
    """429: too many requests; `retry_after` says how long the server asked to wait."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: trouble on the server's side, retried before it reaches you."""


class InsufficientStorageError(ServerError):
    """507: the server has no room to keep the upload. Nothing was kept, and it is not retried.

    Sending the same file again at once would only fill the same disk, so this
    is one of the 5xx answers the client does not retry (see
    `_constants.NON_RETRYABLE_5XX`).
    """


class UnexpectedResponseError(APIError):
    """The server answered, but not with what the API describes.

    An HTML page or JSON where audio was due, a body larger than the client
    accepts, an object whose fields have the wrong types. Often it is not the
    Speechgen server answering at all but a proxy, a captive portal or a wrong
    base URL, so the message names what came back: its Content-Type
    (`content_type`) and how it starts.
    """

    def __init__(self, message: str, *, content_type: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.content_type = content_type


class ResponseTooLargeError(UnexpectedResponseError):
    """The answer is larger than the client takes (`limit` bytes); what was read of it is dropped."""

    def __init__(self, message: str, *, limit: int, size: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit
        self.size = size


class ServerNotAvailableError(SpeechgenError):
    """The server does not offer an endpoint this project added (marked "ours" in the spec)."""


class ConnectionError(SpeechgenError):  # noqa: A001 - deliberately mirrors httpx's naming
    """The server could not be reached (after retries)."""


class TimeoutError(SpeechgenError):  # noqa: A001
    """A request, or a wait, ran past its deadline."""


class ModelFailedError(SpeechgenError):
    """The voice model ended in `failed`; `reason` is the server's explanation."""

    def __init__(self, message: str, *, model_id: str, code: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.model_id = model_id
        self.code = code
        self.reason = reason
