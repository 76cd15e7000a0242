"""Client-side checks on a voice sample, run before any upload.

Speechgen refuses a sample that is over 10 MB, not MP3/WAV/M4A/FLAC/OGG, or
not 10 seconds to 5 minutes long. Uploading 9 MB only to hear that costs the
user a round trip and a wait, so the client looks at the bytes first and says
at once what is wrong and how to fix it.

Why it is written the way it is:

* Pure standard library. The notebook client must install light; numpy, PyAV
  and friends belong to the optional local server.
* Ours, not mutagen (measured for issue 15; `python -m benchmarks --only audio`
  repeats it). mutagen reads a length from all five formats, but it takes the
  headers' word where a voice check must not: it skips the encoder delay in
  FFmpeg's LAME tags ("Lavc") and estimates a VBR MP3 with no Xing header from
  its first frame (2.0 s for 12 s), believes a Xing header or WAV size that
  describes more than the file holds (a cut download reads whole; 37 hours for
  a streaming WAV), reads no MP4 edit list, 0 s for a fragmented MP4 (Safari's
  recorder) and no RF64 (its issue #730). A check built on it gives 9 of 26 real
  variants another verdict than this one, all worse (refusing good files,
  passing broken ones), and is slower on all but the one file it estimates.
  It is also GPL-2.0-or-later, where every core dependency of this MIT client
  is permissive. Its own corpus of odd files was run through these parsers
  instead: they were as near FFmpeg's decode as mutagen or nearer, but for
  three tiny MP3s (by 0.03 s at most), and two verdicts came from it (a FLAC
  that ends before its first frame; raw ADIF AAC, now named).
* Headers, not decoding. Every container stores its length somewhere (WAV
  chunk sizes, FLAC STREAMINFO, Ogg granule positions, MP4 mdhd/elst, MP3
  Xing/VBRI headers or frame headers), so a check costs milliseconds.
* Content, not names. The format is judged from magic bytes and structure:
  a WAV named ``x.mp3`` is a WAV, and text named ``x.mp3`` is text.
* Hostile input is expected. Every read is bounds-checked, every loop moves
  forward, every search has a window, so cut-short or garbage bytes end as
  `UnsupportedMediaTypeError` (or ``duration=None`` when the format is clear
  but its length field is missing), never as an IndexError or a hang.
* The server has the last word. These checks are deliberately no stricter
  than the server: unknown lengths pass, and a small tolerance absorbs codec
  padding (an AAC decoder yields ~1024 samples more than were encoded).
"""

from __future__ import annotations

import shlex
import struct

from ..errors import (
    AudioValidationError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from ._base import (
    _TAKES,
    DURATION_TOLERANCE,
    MAX_BYTES,
    MAX_SECONDS,
    MIN_SECONDS,
    PADDING_TOLERANCE,
    SUPPORTED_FORMATS,
    AudioInfo,
    _Refuse,
)
from ._identify import _identify

__all__ = [
    "AudioInfo",
    "MAX_BYTES",
    "MIN_SECONDS",
    "MAX_SECONDS",
    "DURATION_TOLERANCE",
    "PADDING_TOLERANCE",
    "SUPPORTED_FORMATS",
    "inspect_audio",
    "check_sample",
]




def inspect_audio(data: bytes) -> AudioInfo:
    """Identify a sample by its content and read its length from the headers.

    Raises `UnsupportedMediaTypeError` when the bytes are none of the five
    accepted formats, saying what they look like when that can be told.
    """
    return _inspect(_as_bytes(data), "The sample", None)


def check_sample(data: bytes, filename: str | None = None) -> AudioInfo:
    """Apply the page's audio requirements before upload.

    Size is checked first, before any parsing: it is the cheapest check and the
    one that would otherwise cost the longest upload. Then format, then length.
    """
    data = _as_bytes(data)
    name = filename or "The sample"
    size = len(data)
    if size > MAX_BYTES:
        raise PayloadTooLargeError(_too_large_message(name, size, filename), filename=filename)
    info = _inspect(data, name, filename)
    if info.duration is not None:
        if info.duration < MIN_SECONDS - DURATION_TOLERANCE:
            raise AudioValidationError(
                f"{name} is {_seconds(info.duration)} long; Speechgen needs 10 seconds to 5 minutes of one "
                "person speaking. Record a longer sample (30 seconds or more gives the best clone).",
                filename=filename,
            )
        if info.duration > MAX_SECONDS + PADDING_TOLERANCE:
            raise AudioValidationError(
                f"{name} is {_seconds(info.duration)} long; Speechgen needs 10 seconds to 5 minutes of one "
                "person speaking. Trim it to 5 minutes or less (1 to 2 minutes of clear speech is plenty).",
                filename=filename,
            )
    return info


def _seconds(d: float) -> str:
    r = round(d, 1)
    if r < 60:
        return f"{r:.1f} seconds"
    minutes, secs = divmod(r, 60)
    return f"{r:.1f} seconds ({int(minutes)}:{secs:04.1f})"


def _too_large_message(name: str, size: int, filename: str | None) -> str:
    mb = size / (1024 * 1024)
    already_mp3 = bool(filename) and filename.lower().endswith(".mp3")  # wording only; the format is not parsed yet
    fix = (
        "Trim it, or export it at a lower bitrate (128 kbps is plenty for a voice)."
        if already_mp3
        else "Trim it, or save it as MP3, which is about 10x smaller."
    )
    return f"{name} is {mb:.1f} MB ({size:,} bytes); the limit is 10 MB ({MAX_BYTES:,} bytes). {fix}"


def _as_bytes(data: bytes) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"expected the sample's bytes, got {type(data).__name__}")


def _inspect(data: bytes, name: str, filename: str | None) -> AudioInfo:
    """`_identify` plus the message wording and a last safety net.

    The parsers are written never to raise anything but `_Refuse`/`_Damaged`
    (the fuzz tests call `_identify` directly to hold them to that). The net
    below exists so that a parser bug still reaches a notebook user as a clear
    refusal rather than a traceback.
    """
    try:
        return _identify(data)
    except _Refuse as exc:
        tail = exc.tail.replace("<file>", shlex.quote(filename) if filename else "<file>")
        raise UnsupportedMediaTypeError(f"{name} {tail}", filename=filename) from None
    except (IndexError, KeyError, ValueError, OverflowError, ZeroDivisionError, struct.error, RecursionError):
        raise UnsupportedMediaTypeError(
            f"{name} could not be read as audio; it may be damaged. {_TAKES}", filename=filename
        ) from None


