"""Each API operation, described once for both clients.

A function here turns a method's arguments into a `Call` (validated before
anything is sent) and knows how to read the answer. Parts of the API marked
(page) in the spec and parts marked (ours) are kept apart: what the client
does when a server lacks an (ours) endpoint is in `_extras`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import httpx

from . import _constants as C
from ._base_client import Call, new_idempotency_key, parse_audio, parse_object
from ._inputs import AudioInput, read_audio_input, upload_media_type
from ._secret import Secret, scrub
from .errors import (
    InvalidInputError,
    ModelFailedError,
    TimeoutError,
    UnexpectedResponseError,
)
from .types import Speech, Voice, VoiceModel, WaitProgress

log = logging.getLogger("speechgen_jupyter")

# --------------------------------------------------------------------------- validation


def check_model_id(model_id: str) -> str:
    if not isinstance(model_id, str) or not model_id.strip():
        raise InvalidInputError("model_id must be a non-empty string such as 'vm_abc123xyz'.")
    return model_id.strip()


def model_path(model_id: str) -> str:
    # Quoted whole, so an id like '../x' can never leave /v1/models/.
    return f"v1/models/{quote(check_model_id(model_id), safe='')}"


def check_text(text: str) -> str:
    if not isinstance(text, str):
        raise InvalidInputError(f"text must be a string, not {type(text).__name__}.")
    if not text.strip():
        raise InvalidInputError("There is no text to speak: the text is empty.")
    if len(text) > C.MAX_TEXT_CHARS:
        raise InvalidInputError(
            f"The text is {len(text):,} characters; one request takes at most {C.MAX_TEXT_CHARS:,}. "
            f"Split it (the %%speechgen magic does this for you, at sentence boundaries)."
        )
    return text


def check_stream_text(text: str) -> str:
    """Text for a stream: any length (it is cut into parts), but a string with something to say."""
    if not isinstance(text, str):
        raise InvalidInputError(f"text must be a string, not {type(text).__name__}.")
    if not text.strip():
        raise InvalidInputError("There is no text to speak: the text is empty.")
    return text


def check_format(fmt: str) -> str:
    normalised = (fmt or "").lower().lstrip(".")
    if normalised not in C.OUTPUT_FORMATS:
        raise InvalidInputError(f"format must be one of {', '.join(C.OUTPUT_FORMATS)}; got {fmt!r}.")
    return normalised


def check_voice(voice: str | Voice | VoiceModel) -> str:
    if isinstance(voice, Voice):
        return voice.voice_id
    if isinstance(voice, VoiceModel):
        if not voice.voice_id:
            raise InvalidInputError(
                f"Model {voice.model_id} has no voice_id yet (status {voice.status!r}); wait until it is ready."
            )
        return voice.voice_id
    if not isinstance(voice, str) or not voice.strip():
        raise InvalidInputError("voice must be a voice_id such as 'custom-abc123' (see list_voices()).")
    return voice.strip()


# --------------------------------------------------------------------------- (page) calls


def clone_voice(
    audio: AudioInput,
    name: str,
    description: str | None,
    enhance_quality: bool,
    *,
    filename: str | None,
    check: bool,
) -> Call[VoiceModel]:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("Give the voice model a name, e.g. clone_voice('me.mp3', name='My voice').")
    filename, data = read_audio_input(audio, filename)
    fmt: str | None = None
    if check:
        from .audio import check_sample

        fmt = check_sample(data, filename).format
    form = {"name": name.strip(), "enhance_quality": "true" if enhance_quality else "false"}
    if description:
        form["description"] = description
    return Call(
        "POST",
        "v1/voice-clone",
        parse=lambda r: VoiceModel.from_api(parse_object(r)),
        data=form,
        files={"audio": (filename, data, upload_media_type(fmt))},
        # Made once for this call and reused by every retry of it, so a retry
        # after a lost response never creates a second voice model.
        headers={"Idempotency-Key": new_idempotency_key()},
    )


def get_model(model_id: str) -> Call[VoiceModel]:
    return Call("GET", model_path(model_id), parse=lambda r: VoiceModel.from_api(parse_object(r)))


def delete_model(model_id: str) -> Call[None]:
    return Call("DELETE", model_path(model_id), parse=lambda r: None, expect="none")


def text_to_speech(text: str, voice: str | Voice | VoiceModel, fmt: str) -> Call[Speech]:
    text = check_text(text)
    voice_id = check_voice(voice)
    fmt = check_format(fmt)

    def parse(response: httpx.Response) -> Speech:
        data, got = parse_audio(response)  # the format the bytes are, which is what plays and saves
        return Speech(data, got, text=text, voice=voice_id)

    return Call(
        "POST", "v1/text-to-speech", parse=parse, json={"text": text, "voice": voice_id, "format": fmt}, expect="audio"
    )


def fetch_audio(url: str, *, text: str | None, voice: str | None) -> Call[Speech]:
    """A model sample's audio: checked like speech, since a CDN URL is as likely to answer with a page."""

    def parse(response: httpx.Response) -> Speech:
        data, fmt = parse_audio(response)
        return Speech(data, fmt, text=text, voice=voice)

    return Call("GET", url, parse=parse, expect="audio")


def _malformed(response: httpx.Response, what: str) -> UnexpectedResponseError:
    request = response.request
    return UnexpectedResponseError(
        f"The server's answer to {request.method} {request.url.path} is not what the API describes: {what}. "
        f"Check the base URL (SPEECHGEN_BASE_URL); if it is right, tell the provider.",
        status=response.status_code,
        request_id=response.headers.get("x-request-id"),
        content_type=response.headers.get("content-type"),
    )


def _listing(response: httpx.Response, body: Mapping[str, Any], key: str) -> list[Any]:
    """The list under `key`: an absent or non-list one is refused, not taken for "none" (that would hide them all)."""
    items = body.get(key)
    if not isinstance(items, list):
        shown = "missing" if key not in body else f"{type(items).__name__}, not a list"
        raise _malformed(response, f"its '{key}' is {shown}")
    return items


# --------------------------------------------------------------------------- (ours) calls


def model_and_voice(model: str | VoiceModel) -> tuple[str, str | None]:
    """A model id, and its voice_id when the caller already holds the model."""
    if isinstance(model, VoiceModel):
        return model.model_id, model.voice_id
    return model, None


# --------------------------------------------------------------------------- the speech cache
#
# The cache must never cost the user speech: a full disk, a read-only home or
# a locked database makes a call uncached (and says so in the log), not failed.


def cache_get(store: Any, key: Any, call: Call[Speech]) -> Speech | None:
    try:
        return store.get(key, text=call.json["text"])  # type: ignore[no-any-return]
    except Exception as err:  # noqa: BLE001 - see above
        log.warning("The speech cache could not be read (%s: %s); asking the server.", type(err).__name__, err)
        return None


def cache_put(store: Any, key: Any, speech: Speech) -> None:
    try:
        store.put(key, speech)
    except Exception as err:  # noqa: BLE001 - see above
        log.warning("The speech cache could not keep this speech (%s: %s).", type(err).__name__, err)


def forget_voice(store: Any, scope: str, voice: str) -> None:
    try:
        store.forget_voice(scope, voice)
    except Exception as err:  # noqa: BLE001 - see above
        log.warning("The speech cache could not drop the deleted voice's speech (%s: %s).", type(err).__name__, err)


def list_models_page(cursor: str | None, limit: int) -> Call[tuple[list[VoiceModel], str | None]]:
    def parse(response: httpx.Response) -> tuple[list[VoiceModel], str | None]:
        body = parse_object(response)
        models = _listing(response, body, "models")
        cursor = body.get("next_cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise _malformed(response, f"its 'next_cursor' is {type(cursor).__name__}, not a string or null")
        return [VoiceModel.from_api(m) for m in models if isinstance(m, Mapping)], cursor or None

    params: dict[str, Any] = {"limit": limit}
    if cursor:
        params["cursor"] = cursor
    return Call("GET", "v1/models", parse=parse, params=params)


def list_voices() -> Call[list[Voice]]:
    def parse(response: httpx.Response) -> list[Voice]:
        voices = _listing(response, parse_object(response), "voices")
        return [Voice.from_api(v) for v in voices if isinstance(v, Mapping) and v.get("voice_id")]

    return Call("GET", "v1/voices", parse=parse)


# --------------------------------------------------------------------------- waiting


class ModelWaiter:
    """Decides, after each poll, whether the wait is over and when to poll next.

    It polls fast near the server's `estimated_completion` and slowly far from
    it, so readiness is noticed within a fraction of a second while the
    average rate stays near one request a second; no fixed 5-second sleep.
    """

    def __init__(
        self,
        model_id: str,
        timeout: float,
        on_progress: Callable[[WaitProgress], None] | None,
        clock: Callable[[], float],
        secret: Secret | None = None,
    ) -> None:
        self.model_id = model_id
        self.secret = secret  # a failed model's reason is the server's words: scrub the key from it
        self.timeout = timeout
        self.on_progress = on_progress
        self.clock = clock
        self.started = clock()
        self.polls = 0
        self.overdue_interval = C.POLL_MIN_INTERVAL

    def remaining(self) -> float:
        return self.timeout - (self.clock() - self.started)

    def observe(self, model: VoiceModel) -> float | None:
        """None when ready; else seconds to sleep. Raises on failure or timeout."""
        self.polls += 1
        elapsed = self.clock() - self.started
        seconds_left, fraction = self._estimate(model)
        if self.on_progress is not None:
            self.on_progress(
                WaitProgress(
                    model=model,
                    elapsed=elapsed,
                    fraction=1.0 if model.is_ready else fraction,
                    seconds_left=0.0 if model.is_ready else seconds_left,
                    polls=self.polls,
                )
            )
        if model.is_ready:
            return None
        if model.is_failed:
            reason = scrub(model.error.message, self.secret) if model.error else "the server gave no reason"
            code = scrub(model.error.code, self.secret) if model.error and model.error.code else None
            raise ModelFailedError(
                f"Voice model {model.model_id} ({model.name!r}) failed: {reason}",
                model_id=model.model_id,
                code=code,
                reason=reason,
            )
        left = self.remaining()
        if left <= 0:
            raise TimeoutError(
                f"Voice model {model.model_id} is still {model.status!r} after {self.timeout:g} s. "
                f"It may yet finish: call wait_for_model('{model.model_id}') again, or pass a longer timeout."
            )
        return min(self._interval(seconds_left), left)

    def _interval(self, seconds_left: float | None) -> float:
        if seconds_left is not None and seconds_left > 0:
            if seconds_left <= C.POLL_LAND_WINDOW:
                # Close to the estimate: sleep to just past it, so an honest
                # estimate is caught by one request with almost no lag.
                return seconds_left + C.POLL_LAND_MARGIN
            # Far from it: halve the distance, in case the server is early.
            return min(max(seconds_left / 2, C.POLL_MIN_INTERVAL), C.POLL_MAX_INTERVAL)
        # Past the estimate (or none given): start fast, back off gently.
        interval = self.overdue_interval
        self.overdue_interval = min(self.overdue_interval * 1.25, C.POLL_MAX_INTERVAL / 2)
        return interval

    @staticmethod
    def _estimate(model: VoiceModel) -> tuple[float | None, float | None]:
        eta = model.estimated_completion
        if eta is None:
            return None, None
        now = datetime.now(timezone.utc)
        seconds_left = (eta - now).total_seconds()
        fraction = None
        if model.created_at is not None:
            total = (eta - model.created_at).total_seconds()
            if total > 0:
                fraction = min(max((now - model.created_at).total_seconds() / total, 0.0), 0.99)
        return seconds_left, fraction
