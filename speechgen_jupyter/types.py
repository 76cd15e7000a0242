"""What the API returns, as typed, immutable values.

Parsing is tolerant of what a real service adds over time: every object
keeps the server's original mapping in `raw` (unknown fields included), and
`status` is a plain string, so a status this package has never heard of is
carried, not refused.

It is not tolerant of a field of the wrong type, and never converts one
(`str()` of a list is no name). The rule, per field:
- the fields the client acts on, `model_id`, a model's `status` and
  `voice_id`, and a voice's `voice_id`, must be strings when present:
  anything else is an `UnexpectedResponseError` naming the field, since
  waiting on `["ready"]` or speaking with voice `5` cannot work (a missing
  `model_id` or voice `voice_id` is refused too);
- the descriptive fields (names, descriptions, times, counts, samples,
  errors) take their "absent" value (None, "" or ()) when the value has the
  wrong type, and `raw` still holds what the server sent.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ._constants import MEDIA_TYPES
from .errors import UnexpectedResponseError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["ModelStatus", "Sample", "ModelError", "VoiceModel", "Voice", "Speech", "WaitProgress"]


class ModelStatus:
    """The statuses the page documents. `VoiceModel.status` may hold others."""

    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _frozen(data: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(data))


def _text(data: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """A descriptive string field, or `default` when it is absent or not a string."""
    value = data.get(key)
    return value if isinstance(value, str) else default


def _key_text(data: Mapping[str, Any], key: str, what: str, *, required: bool) -> str | None:
    """A field the client acts on: a string, None when absent and optional, else refused."""
    value = data.get(key)
    if isinstance(value, str) and (value or not required):
        return value
    if value is None and not required:
        return None
    shown = "missing" if key not in data else f"{type(value).__name__} {json.dumps(value, default=repr)[:60]}"
    raise UnexpectedResponseError(
        f"The server sent a {what} whose '{key}' is {shown}, not the string the API describes, so it cannot be "
        f"used. Check the base URL (SPEECHGEN_BASE_URL); if it is right, tell the provider."
    )


@dataclass(frozen=True)
class Sample:
    """A demonstration clip the service rendered with a voice model."""

    title: str
    text: str
    audio_url: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Sample:
        return cls(
            title=_text(data, "title") or "Sample",
            text=_text(data, "text", ""),
            audio_url=_text(data, "audio_url") or None,
            raw=_frozen(data),
        )


@dataclass(frozen=True)
class ModelError:
    """Why a model failed, as the server said it."""

    code: str | None
    message: str


@dataclass(frozen=True)
class VoiceModel:
    """A cloned voice model. `voice_id` is what text-to-speech takes, once `ready`."""

    model_id: str
    name: str
    status: str
    description: str | None = None
    voice_id: str | None = None
    created_at: datetime | None = None
    estimated_completion: datetime | None = None
    usage_count: int | None = None
    samples: tuple[Sample, ...] = ()
    error: ModelError | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> VoiceModel:
        error = data.get("error")
        model_error = None
        if isinstance(error, Mapping):
            model_error = ModelError(code=_text(error, "code"), message=_text(error, "message", ""))
        elif isinstance(error, str):
            model_error = ModelError(code=None, message=error)
        usage = data.get("usage_count")
        samples = data.get("samples")
        return cls(
            model_id=_key_text(data, "model_id", "voice model", required=True),  # type: ignore[arg-type]
            name=_text(data, "name", ""),
            status=_key_text(data, "status", "voice model", required=False) or "unknown",
            description=_text(data, "description"),
            voice_id=_key_text(data, "voice_id", "voice model", required=False),
            created_at=_parse_time(data.get("created_at")),
            estimated_completion=_parse_time(data.get("estimated_completion")),
            usage_count=usage if isinstance(usage, int) and not isinstance(usage, bool) else None,
            samples=tuple(Sample.from_api(s) for s in samples if isinstance(s, Mapping))
            if isinstance(samples, list)
            else (),
            error=model_error,
            raw=_frozen(data),
        )

    @property
    def is_ready(self) -> bool:
        return self.status == ModelStatus.READY

    @property
    def is_failed(self) -> bool:
        return self.status == ModelStatus.FAILED

    @property
    def is_processing(self) -> bool:
        return self.status == ModelStatus.PROCESSING

    def to_dict(self) -> dict[str, Any]:
        """The model as the server sent it (unknown fields included)."""
        return dict(self.raw)


@dataclass(frozen=True)
class Voice:
    """A voice usable in text-to-speech: built in, or a ready clone."""

    voice_id: str
    name: str
    kind: str = "builtin"
    language: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Voice:
        voice_id = _key_text(data, "voice_id", "voice", required=True)
        return cls(
            voice_id=voice_id,  # type: ignore[arg-type]
            name=_text(data, "name") or voice_id,
            kind=_text(data, "kind") or "builtin",
            language=_text(data, "language"),
            raw=_frozen(data),
        )


@dataclass(frozen=True)
class WaitProgress:
    """What `wait_for_model` reports after each poll, for progress bars.

    `fraction` is an estimate in [0, 1] from the server's `estimated_completion`
    (None when the server gave none); it reaches 1.0 only when the model is ready.
    """

    model: VoiceModel
    elapsed: float
    fraction: float | None
    seconds_left: float | None
    polls: int


_FORMAT_BY_MEDIA_TYPE = {v: k for k, v in MEDIA_TYPES.items()} | {
    "audio/mp3": "mp3",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/x-flac": "flac",
    "audio/opus": "ogg",
    "application/ogg": "ogg",
}


def format_from_media_type(media_type: str | None) -> str | None:
    if not media_type:
        return None
    return _FORMAT_BY_MEDIA_TYPE.get(media_type.split(";")[0].strip().lower())


class Speech:
    """Audio the service made: generated speech or a model's sample.

    It holds its bytes, so it can be played, saved and decoded as often as
    wanted (never a one-shot stream). As the last value of a cell it shows an
    inline player that does not autoplay or loop.
    """

    __slots__ = ("data", "format", "text", "voice", "_info")

    def __init__(self, data: bytes, format: str, *, text: str | None = None, voice: str | None = None) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"Speech data must be bytes, not {type(data).__name__}")
        self.data = bytes(data)
        self.format = format
        self.text = text
        self.voice = voice
        self._info: Any = None

    @property
    def media_type(self) -> str:
        # m4a is no output format, but a model's sample may come as one.
        return MEDIA_TYPES.get(self.format) or {"m4a": "audio/mp4"}.get(self.format, "application/octet-stream")

    @property
    def duration(self) -> float | None:
        """Seconds of audio, read from the file's headers (no audio stack needed)."""
        if self._info is None:
            from .audio import inspect_audio
            from .errors import SpeechgenError

            try:
                self._info = inspect_audio(self.data)
            except SpeechgenError:
                self._info = False
        return self._info.duration if self._info else None

    def __bytes__(self) -> bytes:
        return self.data

    def __len__(self) -> int:
        return len(self.data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Speech):
            return NotImplemented
        return (self.data, self.format) == (other.data, other.format)

    __hash__ = None  # type: ignore[assignment]

    def save(self, path: str | Path) -> Path:
        """Write the audio to `path` (a file, or a folder to write `speech.<format>` into).

        A path without a suffix gets the format's; a path whose suffix names a
        different format is refused rather than writing a file that lies.
        """
        target = Path(path).expanduser()
        if target.is_dir():
            target = target / f"speech.{self.format}"
        elif not target.suffix:
            target = target.with_suffix(f".{self.format}")
        suffix = target.suffix.lower().lstrip(".")
        if suffix != self.format and not (suffix in ("mpeg", "mpga") and self.format == "mp3") and not (
            suffix in ("opus", "oga") and self.format == "ogg"
        ):
            raise ValueError(
                f"This audio is {self.format.upper()}, but {target.name!r} names a .{suffix} file. "
                f"Save it as '{target.with_suffix('.' + self.format).name}', or ask for format={suffix!r} when speaking."
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.data)
        return target

    @classmethod
    def load(cls, path: str | Path) -> Speech:
        """Read audio back from a file written by `save` (or any supported file)."""
        from .audio import inspect_audio

        data = Path(path).expanduser().read_bytes()
        return cls(data, inspect_audio(data).format)

    def to_numpy(self) -> tuple[np.ndarray, int]:
        """Decode to (float32 mono samples in [-1, 1], sample rate). Needs PyAV (`pip install speechgen_jupyter[local]`)."""
        from ._decode import decode_to_numpy

        return decode_to_numpy(self.data)

    def _repr_html_(self) -> str:
        encoded = base64.b64encode(self.data).decode("ascii")
        caption = html.escape(self._caption())
        return (
            f'<div class="speechgen-speech"><audio controls preload="metadata" '
            f'src="data:{self.media_type};base64,{encoded}"></audio>'
            f'<div style="font-size:smaller;opacity:.75">{caption}</div></div>'
        )

    def _caption(self) -> str:
        parts = [self.format.upper()]
        duration = self.duration
        if duration is not None:
            parts.append(f"{duration:.1f} s")
        parts.append(f"{len(self.data) / 1024:.1f} kB")
        if self.voice:
            parts.append(f"voice {self.voice}")
        if self.text:
            text = self.text if len(self.text) <= 60 else self.text[:57] + "..."
            parts.append(f"“{text}”")
        return " · ".join(parts)

    def __repr__(self) -> str:
        return f"<Speech {self._caption()}>"
