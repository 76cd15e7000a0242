"""What every container parser shares: the result type, the two ways to refuse, bounds-checked readers."""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 10 * 1024 * 1024
MIN_SECONDS = 10.0
MAX_SECONDS = 300.0
#: Slack below MIN_SECONDS: a recording of "about 10 s" may be 9.9 s; 9.8 s is refused.
DURATION_TOLERANCE = 0.15
#: Slack above MAX_SECONDS. Encoders only ever add samples (MP3 encoder delay
#: and frame padding when there is no LAME header, AAC priming when there is no
#: edit list: up to ~0.26 s at 8 kHz), and the server decodes those samples too,
#: so a 300.0 s recording must pass however it was saved; 300.5 s is refused.
PADDING_TOLERANCE = 0.3
SUPPORTED_FORMATS = ("mp3", "wav", "m4a", "flac", "ogg")

_TAKES = "Speechgen takes MP3 (recommended), WAV, M4A, FLAC or OGG."
_CONVERT = "Convert it to MP3 (recommended), WAV, M4A, FLAC or OGG, e.g. with `ffmpeg -i <file> sample.mp3`."
_LABELS = {"mp3": "an MP3", "wav": "a WAV", "m4a": "an M4A/MP4", "flac": "a FLAC", "ogg": "an Ogg"}


@dataclass(frozen=True)
class AudioInfo:
    """What the headers say about a sample.

    `format` is judged by content. `duration` is None only when the format is
    certain but the file does not record its length (then nobody refuses on
    duration: the server decodes and decides).
    """

    format: str
    duration: float | None
    size: int
    sample_rate: int | None
    channels: int | None
    codec: str | None






class _Refuse(Exception):
    """Internal: the content will not do. `tail` finishes a sentence that begins with the file's name."""

    def __init__(self, tail: str) -> None:
        super().__init__(tail)
        self.tail = tail


class _Damaged(Exception):
    """Internal: the format is clear but its structure is broken; `detail` says where."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _not_audio(what: str) -> _Refuse:
    return _Refuse(f"is not audio: it looks like {what}. {_TAKES}")


def _other_media(what: str) -> _Refuse:
    return _Refuse(f"is {what}, which Speechgen does not take. {_CONVERT}")




def _u16le(b: bytes, o: int) -> int:
    if o < 0 or o + 2 > len(b):
        raise _Damaged("a header is cut short")
    return b[o] | (b[o + 1] << 8)


def _u32le(b: bytes, o: int) -> int:
    if o < 0 or o + 4 > len(b):
        raise _Damaged("a header is cut short")
    return int.from_bytes(b[o : o + 4], "little")


def _u64le(b: bytes, o: int) -> int:
    if o < 0 or o + 8 > len(b):
        raise _Damaged("a header is cut short")
    return int.from_bytes(b[o : o + 8], "little")


def _u16be(b: bytes, o: int) -> int:
    if o < 0 or o + 2 > len(b):
        raise _Damaged("a header is cut short")
    return (b[o] << 8) | b[o + 1]


def _u32be(b: bytes, o: int) -> int:
    if o < 0 or o + 4 > len(b):
        raise _Damaged("a header is cut short")
    return int.from_bytes(b[o : o + 4], "big")


def _u64be(b: bytes, o: int) -> int:
    if o < 0 or o + 8 > len(b):
        raise _Damaged("a header is cut short")
    return int.from_bytes(b[o : o + 8], "big")

def _slice(data: bytes, off: int, length: int) -> bytes:
    if off < 0 or off + length > len(data):
        raise _Damaged("a header is cut short")
    return data[off : off + length]
