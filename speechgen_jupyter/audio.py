"""Client-side checks on a voice sample, run before any upload.

Speechgen refuses a sample that is over 10 MB, not MP3/WAV/M4A/FLAC/OGG, or
not 10 seconds to 5 minutes long. Uploading 9 MB only to hear that costs the
user a round trip and a wait, so the client looks at the bytes first and says
at once what is wrong and how to fix it.

Why it is written the way it is:

* Pure standard library. The notebook client must install light; numpy, PyAV
  and friends belong to the optional local server.
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

import json
import shlex
import struct
import zlib
from dataclasses import dataclass
from typing import Callable, NamedTuple

from .errors import AudioValidationError, PayloadTooLargeError, UnsupportedMediaTypeError

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


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Identification
# --------------------------------------------------------------------------

_ISO_BOX_TYPES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"styp", b"uuid"}


def _identify(data: bytes) -> AudioInfo:
    """Pick a parser from the content, run it, and name the format when it breaks."""
    if not data:
        raise _Refuse(f"is empty (0 bytes). {_TAKES}")
    fmt, parse = _sniff(data)
    try:
        return parse(data)
    except _Damaged as exc:
        raise _Refuse(
            f"looks like {_LABELS[fmt]} file, but it is damaged or cut short ({exc.detail}). "
            "Export or download it again."
        ) from None


def _sniff(data: bytes) -> tuple[str, Callable[[bytes], AudioInfo]]:
    """Return (format, parser) for an accepted format, or raise `_Refuse` describing the content."""
    head = data[:12]
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav", _parse_wav
    if head[:4] == b"fLaC":
        return "flac", lambda d: _parse_flac(d, 0)
    if head[:4] == b"OggS":
        return "ogg", _parse_ogg
    if len(data) >= 8 and data[4:8] in _ISO_BOX_TYPES and _u32be(data, 0) not in range(2, 8):
        return "m4a", _parse_mp4
    if head[:3] == b"ID3":
        start = _skip_id3(data, 0)
        if data[start : start + 4] == b"fLaC":
            return "flac", lambda d: _parse_flac(d, start)
        return "mp3", lambda d: _parse_mp3(d, start, tagged=True)
    _refuse_known_magic(data)
    if _find_mpeg_start(data, 0, _SYNC_WINDOW) is not None:
        return "mp3", lambda d: _parse_mp3(d, 0, tagged=False)
    raise _describe_unknown(data)


_MAGIC: list[tuple[int, bytes, Callable[[], _Refuse]]] = [
    (0, b"\x89PNG\r\n\x1a\n", lambda: _not_audio("a PNG image")),
    (0, b"\xff\xd8\xff", lambda: _not_audio("a JPEG image")),
    (0, b"GIF87a", lambda: _not_audio("a GIF image")),
    (0, b"GIF89a", lambda: _not_audio("a GIF image")),
    (0, b"II*\x00", lambda: _not_audio("a TIFF image")),
    (0, b"MM\x00*", lambda: _not_audio("a TIFF image")),
    (0, b"%PDF", lambda: _not_audio("a PDF document")),
    (0, b"PK\x03\x04", lambda: _not_audio("a ZIP archive (or an Office document)")),
    (0, b"PK\x05\x06", lambda: _not_audio("an empty ZIP archive")),
    (0, b"\x1f\x8b\x08", lambda: _not_audio("a gzip-compressed file")),
    (0, b"7z\xbc\xaf\x27\x1c", lambda: _not_audio("a 7-Zip archive")),
    (0, b"Rar!\x1a\x07", lambda: _not_audio("a RAR archive")),
    (0, b"\x7fELF", lambda: _not_audio("a program (ELF binary)")),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", lambda: _not_audio("an old Microsoft Office document")),
    (0, b"SQLite format 3\x00", lambda: _not_audio("an SQLite database")),
    (0, b"\x93NUMPY", lambda: _not_audio("a NumPy array file (.npy); write it out with soundfile or scipy.io.wavfile")),
    (0, b"MThd", lambda: _not_audio("a MIDI file (notes, not a recording of a voice)")),
    (0, b"\x1aE\xdf\xa3", lambda: _other_media("a WebM/Matroska file")),
    (0, b"0&\xb2u\x8ef\xcf\x11", lambda: _other_media("a Windows Media (WMA/ASF) file")),
    (0, b".snd", lambda: _other_media("Sun/NeXT AU audio")),
    (0, b"#!AMR", lambda: _other_media("AMR audio")),
    (0, b"caff", lambda: _other_media("Apple Core Audio (CAF) audio")),
    (0, b"riff\x2e\x91\xcf\x11", lambda: _other_media("Sony Wave64 (W64) audio")),
    (0, b"MAC ", lambda: _other_media("Monkey's Audio (APE)")),
    (0, b"wvpk", lambda: _other_media("WavPack audio")),
    (0, b"FLV\x01", lambda: _other_media("a Flash video (FLV)")),
    (0, b"\x00\x00\x01\xba", lambda: _other_media("an MPEG program stream (video)")),
]


_BMP_HEADER_SIZES = {n.to_bytes(4, "little") for n in (12, 40, 52, 56, 64, 108, 124)}


def _refuse_known_magic(data: bytes) -> None:
    """Raise a precise refusal for well-known non-accepted signatures."""
    for offset, magic, refusal in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            if magic == b"\x1aE\xdf\xa3" and b"webm" not in data[:64]:
                raise _other_media("a Matroska (MKV/MKA) file")
            raise refusal()
    if data[:2] == b"BM" and data[6:10] == b"\x00\x00\x00\x00" and data[14:18] in _BMP_HEADER_SIZES:
        raise _not_audio("a BMP image")
    if data[:2] == b"MZ" and len(data) >= 64:
        pe = int.from_bytes(data[60:64], "little")
        if data[pe : pe + 4] == b"PE\x00\x00":
            raise _not_audio("a Windows program")
    if data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        raise _other_media("AIFF audio")
    if data[:4] == b"RIFF":
        kind = data[8:12]
        if kind == b"AVI ":
            raise _other_media("an AVI video")
        if kind == b"WEBP":
            raise _not_audio("a WebP image")
        raise _other_media(f"a RIFF file of type {kind.decode('latin-1')!r}, not WAV")
    if len(data) >= 188 * 3 and data[0] == 0x47 and data[188] == 0x47 and data[376] == 0x47:
        raise _other_media("an MPEG transport stream (video)")


def _describe_unknown(data: bytes) -> _Refuse:
    """Say what content that is none of the formats looks like (text, HTML, JSON...)."""
    adts = _adts_frames(data, 0)
    if adts >= 3:
        return _other_media("raw AAC audio (ADTS) without an M4A container")
    text = _as_text(data[:8192])
    if text is not None:
        return _not_audio(_describe_text(text, data))
    first = " ".join(f"{b:02x}" for b in data[:8])
    return _Refuse(
        f"is not audio Speechgen can read: its content is not MP3, WAV, M4A, FLAC or OGG, whatever its name says "
        f"(it starts with bytes {first}). {_TAKES}"
    )


def _as_text(head: bytes) -> str | None:
    """The head decoded as text if it looks like text, else None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head[2 : len(head) & ~1].decode("utf-16-le" if head[0] == 0xFF else "utf-16-be", errors="strict")
        except UnicodeDecodeError:
            return None
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if b"\x00" in head:
        return None
    decoded = head.decode("utf-8", errors="replace")
    if not decoded:
        return None
    bad = decoded.count("\ufffd") + sum(1 for ch in decoded if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    # a multi-byte character cut at the window's end gives at most a few bad characters
    return decoded if bad <= max(3, len(decoded) // 100) else None


def _describe_text(text: str, data: bytes) -> str:
    low = text.lstrip().lower()
    if low.startswith("<!doctype html") or low.startswith("<html") or "<html" in low[:1024]:
        return "an HTML web page (perhaps an error or login page saved instead of the audio; download it again)"
    if low.startswith("<svg") or (low.startswith("<?xml") and "<svg" in low[:2048]):
        return "an SVG image"
    if low.startswith("<?xml"):
        return "an XML document"
    if low.startswith(("{", "[")):
        if len(data) <= 1_000_000:
            try:
                json.loads(data.decode("utf-8-sig"))
                return "JSON data (perhaps an API response saved instead of the audio)"
            except (ValueError, UnicodeDecodeError):
                pass
        return "JSON-like text"
    if low.startswith("#exttm3u") or low.startswith("[playlist]"):
        return "a playlist (a list of links, not the audio itself)"
    return "plain text"


# --------------------------------------------------------------------------
# Bounds-checked readers
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# WAV (RIFF / RF64 / BW64)
# --------------------------------------------------------------------------

_WAV_CODECS = {
    0x0001: "pcm",
    0x0003: "pcm_float",
    0x0006: "alaw",
    0x0007: "mulaw",
    0x0002: "adpcm_ms",
    0x0011: "adpcm_ima",
    0x0031: "gsm",
    0x0050: "mp2",
    0x0055: "mp3",
    0x00FF: "aac",
    0x1610: "aac",
}
_WAV_PCM_LIKE = {0x0001, 0x0003, 0x0006, 0x0007}
_WAV_STREAMING_SIZES = (0, 0xFFFFFFFF)
_MAX_WAV_CHUNKS = 10_000  # real files have a handful; the cap keeps a hostile file cheap


class _WavFmt(NamedTuple):
    tag: int
    channels: int
    rate: int
    byte_rate: int
    block_align: int
    bits: int


def _parse_wav(data: bytes) -> AudioInfo:
    """Walk the RIFF chunks for `fmt ` and `data`; length = data bytes / frame size.

    RF64/BW64 keep the real 64-bit data size in `ds64`. Streaming writers leave
    the data size at 0 or 0xFFFFFFFF, and a cut-short file holds less than it
    claims, so the size is capped at what the file really holds.
    """
    n = len(data)
    fmt: _WavFmt | None = None
    ds64_size: int | None = None
    fact_samples: int | None = None
    data_off: int | None = None
    data_size = 0
    pos = 12
    for _ in range(_MAX_WAV_CHUNKS):
        if pos + 8 > n:
            break
        cid, size, body = data[pos : pos + 4], _u32le(data, pos + 4), pos + 8
        if cid == b"ds64" and size >= 16:
            ds64_size = _u64le(data, body + 8)
        elif cid == b"fmt ":
            fmt = _wav_fmt(data, body, size)
        elif cid == b"fact" and size >= 4:
            fact_samples = _u32le(data, body)
        elif cid == b"data":
            data_off, data_size = body, size
            if data[:4] != b"RIFF" and size == 0xFFFFFFFF and ds64_size is not None:
                data_size = ds64_size
            # A streaming size says "to the end": nothing after it can be trusted.
            if fmt is not None or size in _WAV_STREAMING_SIZES or body + size > n:
                break
        pos = body + size + (size & 1)
    if fmt is None:
        raise _Damaged("no 'fmt ' chunk describing the audio")
    if data_off is None:
        raise _Damaged("no 'data' chunk holding the audio")
    available = n - data_off
    if data_size in _WAV_STREAMING_SIZES or data_size > available:
        data_size = available
    return AudioInfo(
        format="wav",
        duration=_wav_duration(fmt, data_size, fact_samples),
        size=n,
        sample_rate=fmt.rate,
        channels=fmt.channels,
        codec=_WAV_CODECS.get(fmt.tag, f"0x{fmt.tag:04x}"),
    )


def _wav_fmt(data: bytes, body: int, size: int) -> _WavFmt:
    """Read WAVEFORMAT(EX/EXTENSIBLE); EXTENSIBLE hides the real codec in its sub-format GUID."""
    if size < 14:
        raise _Damaged("the 'fmt ' chunk is too small")
    tag, channels, rate, byte_rate, block_align = struct.unpack_from("<HHIIH", _slice(data, body, 14))
    bits = _u16le(data, body + 14) if size >= 16 else 0
    if tag == 0xFFFE and size >= 40:
        tag = _u16le(data, body + 24)
    if channels == 0:
        raise _Damaged("the header says 0 channels")
    if rate == 0:
        raise _Damaged("the header says a sample rate of 0")
    return _WavFmt(tag, channels, rate, byte_rate, block_align, bits)


def _wav_duration(fmt: _WavFmt, data_size: int, fact_samples: int | None) -> float | None:
    if fmt.tag in _WAV_PCM_LIKE:
        frame = fmt.block_align or fmt.channels * ((fmt.bits + 7) // 8)
        if frame > 0:
            return (data_size // frame) / fmt.rate
    if fact_samples:
        return fact_samples / fmt.rate
    if fmt.byte_rate > 0:
        return data_size / fmt.byte_rate
    return None


def _slice(data: bytes, off: int, length: int) -> bytes:
    if off < 0 or off + length > len(data):
        raise _Damaged("a header is cut short")
    return data[off : off + length]


# --------------------------------------------------------------------------
# FLAC (native)
# --------------------------------------------------------------------------


class _StreamInfo(NamedTuple):
    min_block: int
    rate: int
    channels: int
    bits: int
    total_samples: int


def _parse_flac(data: bytes, start: int) -> AudioInfo:
    """STREAMINFO (always the first metadata block) gives rate, channels and total samples.

    Encoders that cannot seek back (streams, pipes) leave the total at 0; then
    the last frame header near the end of the file gives the length instead.
    """
    pos = start + 4
    block_header = _u32be(data, pos)
    if (block_header >> 24) & 0x7F != 0 or (block_header & 0xFFFFFF) < 34:
        raise _Damaged("the first metadata block is not STREAMINFO")
    si = _read_streaminfo(_slice(data, pos + 4, 34))
    total = si.total_samples or _flac_tail_samples(data, pos + 8 + 34, si)
    return AudioInfo(
        format="flac",
        duration=total / si.rate if total else None,
        size=len(data),
        sample_rate=si.rate,
        channels=si.channels,
        codec="flac",
    )


def _read_streaminfo(block: bytes) -> _StreamInfo:
    v = int.from_bytes(block[10:18], "big")
    rate = v >> 44
    if rate == 0:
        raise _Damaged("STREAMINFO says a sample rate of 0")
    return _StreamInfo(
        min_block=_u16be(block, 0),
        rate=rate,
        channels=((v >> 41) & 0x7) + 1,
        bits=((v >> 36) & 0x1F) + 1,
        total_samples=v & ((1 << 36) - 1),
    )


_FLAC_RATES = (0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000)
_FLAC_BITS = (0, 8, 12, 0, 16, 20, 24, 32)
_FLAC_TAIL = 1 << 17


def _flac_tail_samples(data: bytes, audio_start: int, si: _StreamInfo) -> int:
    """Samples up to the end of the last frame whose header (with its CRC-8) is intact; 0 if none."""
    n = len(data)
    lo = max(audio_start, n - _FLAC_TAIL)
    pos = n
    for _ in range(4096):
        pos = data.rfind(b"\xff", lo, pos)
        if pos < 0:
            return 0
        end = _flac_frame_end_sample(data, pos, si)
        if end:
            return end
    return 0


def _flac_frame_end_sample(data: bytes, pos: int, si: _StreamInfo) -> int:
    """If a valid frame header starts at pos, the sample number just after that frame, else 0."""
    head = data[pos : pos + 16]
    if len(head) < 6 or head[1] not in (0xF8, 0xF9):
        return 0
    variable = head[1] & 1
    bs_code, sr_code = head[2] >> 4, head[2] & 0xF
    ch_code, bits_code = head[3] >> 4, (head[3] >> 1) & 0x7
    if bs_code == 0 or sr_code == 15 or ch_code > 10 or bits_code == 3 or head[3] & 1:
        return 0
    if (sr_code and sr_code < 12 and _FLAC_RATES[sr_code] != si.rate) or (
        bits_code and _FLAC_BITS[bits_code] != si.bits
    ):
        return 0
    number, i = _flac_utf8(head, 4)
    if number is None:
        return 0
    if bs_code == 1:
        block = 192
    elif bs_code <= 5:
        block = 576 << (bs_code - 2)
    elif bs_code == 6:
        if i + 1 > len(head):
            return 0
        block, i = head[i] + 1, i + 1
    elif bs_code == 7:
        if i + 2 > len(head):
            return 0
        block, i = ((head[i] << 8) | head[i + 1]) + 1, i + 2
    else:
        block = 256 << (bs_code - 8)
    i += {12: 1, 13: 2, 14: 2}.get(sr_code, 0)
    if i + 1 > len(head) or _crc8(head[:i]) != head[i]:
        return 0
    start = number if variable else number * (si.min_block or block)
    return start + block


def _flac_utf8(b: bytes, i: int) -> tuple[int | None, int]:
    """FLAC's UTF-8-style coded frame/sample number."""
    first = b[i]
    if first < 0x80:
        return first, i + 1
    extra = 0
    mask = 0x40
    while first & mask and extra < 6:
        extra += 1
        mask >>= 1
    if extra == 0 or i + 1 + extra > len(b):
        return None, i
    value = first & (mask - 1)
    for k in range(1, extra + 1):
        c = b[i + k]
        if c & 0xC0 != 0x80:
            return None, i
        value = (value << 6) | (c & 0x3F)
    return value, i + 1 + extra


def _crc8(b: bytes) -> int:
    crc = 0
    for byte in b:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


# --------------------------------------------------------------------------
# Ogg (Vorbis, Opus, FLAC)
# --------------------------------------------------------------------------

_OGG_HEADER = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, sequence, crc, segments
_OGG_MAX_CRC_CHECKS = 64


class _OggPage(NamedTuple):
    flags: int
    granule: int
    serial: int
    body: int  # offset of the page body
    lacing: bytes
    end: int  # offset just after the page


class _OggStream(NamedTuple):
    serial: int
    codec: str
    rate: int
    channels: int
    pre_skip: int


def _ogg_page(data: bytes, pos: int) -> _OggPage | None:
    """The page header at pos, or None if there is no plausible one."""
    if pos < 0 or pos + 27 > len(data):
        return None
    capture, version, flags, granule, serial, _seq, _crc, nseg = _OGG_HEADER.unpack_from(data, pos)
    if capture != b"OggS" or version != 0 or pos + 27 + nseg > len(data):
        return None
    lacing = data[pos + 27 : pos + 27 + nseg]
    body = pos + 27 + nseg
    return _OggPage(flags, granule, serial, body, lacing, body + sum(lacing))


def _parse_ogg(data: bytes) -> AudioInfo:
    """Codec and rate from the identification header; length from the last page's granule position.

    Granules count samples (at 48 kHz for Opus, minus its pre-skip), so the
    last page that carries one gives the length without decoding. It is read
    from the end backwards, with the page CRC checked so that "OggS" inside
    packet data cannot fool it.
    """
    streams, others = _ogg_streams(data)
    if not streams:
        if "speex" in others:
            raise _other_media("Ogg Speex audio (Speechgen reads Ogg with Vorbis, Opus or FLAC inside)")
        if others & {"theora", "dirac", "daala", "vp8"}:
            raise _other_media("an Ogg video with no sound track")
        raise _Damaged("no Vorbis, Opus or FLAC stream in its first pages")
    stream = streams[0]
    granule = _ogg_last_granule(data, stream.serial)
    duration: float | None = None
    if granule is not None:
        duration = max(0, granule - stream.pre_skip) / stream.rate
    return AudioInfo(
        format="ogg",
        duration=duration,
        size=len(data),
        sample_rate=stream.rate,
        channels=stream.channels,
        codec=stream.codec,
    )


def _ogg_streams(data: bytes) -> tuple[list[_OggStream], set[str]]:
    """The audio streams started on the leading BOS pages, and the names of the other streams."""
    audio: list[_OggStream] = []
    others: set[str] = set()
    pos = 0
    for _ in range(64):
        page = _ogg_page(data, pos)
        if page is None or not page.flags & 0x02:
            break
        packet = data[page.body : page.body + _first_packet_length(page.lacing)]
        kind = _ogg_codec(packet, page.serial)
        if isinstance(kind, _OggStream):
            audio.append(kind)
        elif kind:
            others.add(kind)
        pos = page.end
    if not audio and not others and _ogg_page(data, 0) is None:
        raise _Damaged("its first page header is cut short")
    return audio, others


def _first_packet_length(lacing: bytes) -> int:
    total = 0
    for value in lacing:
        total += value
        if value < 255:
            break
    return total


def _ogg_codec(packet: bytes, serial: int) -> _OggStream | str | None:
    """Read an identification header: a stream for Vorbis/Opus/FLAC, else the codec's name."""
    if packet.startswith(b"\x01vorbis"):
        if len(packet) < 16:
            raise _Damaged("the Vorbis identification header is cut short")
        channels, rate = packet[11], _u32le(packet, 12)
        if rate == 0 or channels == 0:
            raise _Damaged("the Vorbis header says 0 channels or a sample rate of 0")
        return _OggStream(serial, "vorbis", rate, channels, 0)
    if packet.startswith(b"OpusHead"):
        if len(packet) < 19:
            raise _Damaged("the Opus identification header is cut short")
        if packet[9] == 0:
            raise _Damaged("the Opus header says 0 channels")
        # Opus always decodes at 48 kHz; the header's "input rate" is only informational.
        return _OggStream(serial, "opus", 48_000, packet[9], _u16le(packet, 10))
    if packet.startswith(b"\x7fFLAC"):
        if len(packet) < 13 + 4 + 34 or packet[9:13] != b"fLaC":
            raise _Damaged("the Ogg FLAC header is cut short")
        si = _read_streaminfo(packet[17 : 17 + 34])
        return _OggStream(serial, "flac", si.rate, si.channels, 0)
    for prefix, name in (
        (b"Speex   ", "speex"),
        (b"\x80theora", "theora"),
        (b"BBCD\x00", "dirac"),
        (b"\x80daala", "daala"),
        (b"OVP80", "vp8"),
        (b"fishead\x00", "skeleton"),
        (b"\x80kate", "kate"),
    ):
        if packet.startswith(prefix):
            return name
    return "unknown"


def _ogg_last_granule(data: bytes, serial: int) -> int | None:
    """The granule position of the last intact page of `serial` that has one, or None."""
    pos = len(data)
    checks = 0
    while checks < _OGG_MAX_CRC_CHECKS:
        pos = data.rfind(b"OggS", 0, pos)
        if pos < 0:
            return None
        page = _ogg_page(data, pos)
        if page is not None and page.serial == serial and page.granule >= 0 and page.end <= len(data):
            checks += 1
            if _ogg_crc(data, pos, page.end) == _u32le(data, pos + 22):
                return page.granule
    return None


_BITREV = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def _ogg_crc(data: bytes, start: int, end: int) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, not reflected, init 0) at C speed.

    zlib only computes the reflected CRC-32, but reflecting the input bytes and
    the result turns one into the other, so no per-byte Python loop is needed.
    """
    page = bytearray(data[start:end])
    page[22:26] = b"\x00\x00\x00\x00"
    raw = zlib.crc32(bytes(page).translate(_BITREV), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{raw:032b}"[::-1], 2)


# --------------------------------------------------------------------------
# MP4 / M4A (ISO base media file format)
# --------------------------------------------------------------------------

_MP4_CODECS = {
    b"mp4a": "aac",
    b"alac": "alac",
    b"ac-3": "ac3",
    b"ec-3": "eac3",
    b"Opus": "opus",
    b"fLaC": "flac",
    b".mp3": "mp3",
    b"samr": "amr_nb",
    b"sawb": "amr_wb",
    b"lpcm": "pcm",
    b"sowt": "pcm",
    b"twos": "pcm",
    b"in24": "pcm",
    b"in32": "pcm",
    b"fl32": "pcm_float",
    b"fl64": "pcm_float",
    b"ulaw": "mulaw",
    b"alaw": "alaw",
}
_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1", b"avif", b"avis"}


class _Box(NamedTuple):
    type: bytes
    body: int
    end: int


class _Track(NamedTuple):
    track_id: int
    handler: bytes
    timescale: int
    duration: int  # in `timescale` units; 0 when unknown
    sample_entry: bytes
    channels: int | None
    rate: int | None
    codec: str | None
    edits: list[tuple[int, int]]  # (segment duration in movie timescale, media time)


_BOX_HEADER = struct.Struct(">I4s")
_MAX_BOXES = 50_000  # per level; real files have a handful (a fragmented one, two per fragment)


def _boxes(data: bytes, start: int, end: int) -> list[_Box]:
    """The boxes laid end to end in [start, end). A box running past `end` is cut to it.

    Every step advances by at least the 8-byte header and the count is capped,
    so the walk ends quickly even on a file made of millions of empty boxes.
    """
    out: list[_Box] = []
    pos = start
    end = min(end, len(data))
    while pos + 8 <= end:
        if len(out) >= _MAX_BOXES:
            raise _Damaged("it holds an implausible number of boxes")
        size, kind = _BOX_HEADER.unpack_from(data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            size, header = _u64be(data, pos + 8), 16
        elif size == 0:
            size = end - pos
        if size < header:
            raise _Damaged(f"a {kind.decode('latin-1')!r} box has an impossible size")
        out.append(_Box(kind, pos + header, min(pos + size, end)))
        pos += size
    return out


def _child(data: bytes, box: _Box, kind: bytes) -> _Box | None:
    for b in _boxes(data, box.body, box.end):
        if b.type == kind:
            return b
    return None


def _parse_mp4(data: bytes) -> AudioInfo:
    """Walk the top-level boxes to `moov` (before or after `mdat`), then to the audio track.

    Length, best first: the audio track's edit list (it hides AAC priming), its
    mdhd, the sum of fragment durations (fragmented MP4, e.g. Safari's
    recorder), then mvhd/mehd.
    """
    top = _boxes(data, 0, len(data))
    ftyp = next((b for b in top if b.type == b"ftyp"), None)
    if ftyp is not None:
        brands = {data[ftyp.body : ftyp.body + 4]} | {
            data[i : i + 4] for i in range(ftyp.body + 8, ftyp.end - 3, 4)
        }
        if brands & _IMAGE_BRANDS and not any(b.type == b"moov" for b in top):
            raise _not_audio("a HEIC/AVIF image")
    moov = next((b for b in top if b.type == b"moov"), None)
    if moov is None:
        raise _Damaged("no 'moov' index box: the file was cut short or is still being written")
    movie_scale, movie_duration = _mvhd(data, moov)
    tracks = [_track(data, t) for t in _boxes(data, moov.body, moov.end) if t.type == b"trak"]
    audio = [t for t in tracks if t.handler == b"soun"]
    if not audio:
        if any(t.handler == b"vide" for t in tracks):
            raise _other_media("an MP4/QuickTime video with no sound track")
        raise _Damaged("no audio track")
    track = audio[0]
    if track.sample_entry == b"enca":
        raise _other_media("copy-protected (DRM) audio")
    duration = _mp4_track_seconds(data, top, moov, track, movie_scale)
    if duration is None and movie_scale and movie_duration:
        duration = movie_duration / movie_scale
    return AudioInfo(
        format="m4a",
        duration=duration,
        size=len(data),
        sample_rate=track.rate or (track.timescale or None),
        channels=track.channels,
        codec=track.codec,
    )


def _full_box_times(data: bytes, body: int) -> tuple[int, int]:
    """(timescale, duration) of an mvhd/mdhd in version 0 (32-bit) or 1 (64-bit) layout."""
    version = _slice(data, body, 1)[0]
    if version == 1:
        scale, duration = _u32be(data, body + 20), _u64be(data, body + 24)
        unknown = 0xFFFFFFFFFFFFFFFF
    else:
        scale, duration = _u32be(data, body + 12), _u32be(data, body + 16)
        unknown = 0xFFFFFFFF
    return scale, (0 if duration == unknown else duration)


def _mvhd(data: bytes, moov: _Box) -> tuple[int, int]:
    box = _child(data, moov, b"mvhd")
    return _full_box_times(data, box.body) if box else (0, 0)


def _track(data: bytes, trak: _Box) -> _Track:
    tkhd = _child(data, trak, b"tkhd")
    track_id = 0
    if tkhd is not None:
        track_id = _u32be(data, tkhd.body + (20 if _slice(data, tkhd.body, 1)[0] == 1 else 12))
    edits: list[tuple[int, int]] = []
    edts = _child(data, trak, b"edts")
    elst = _child(data, edts, b"elst") if edts else None
    if elst is not None:
        edits = _elst(data, elst)
    mdia = _child(data, trak, b"mdia")
    if mdia is None:
        return _Track(track_id, b"", 0, 0, b"", None, None, None, edits)
    hdlr = _child(data, mdia, b"hdlr")
    handler = data[hdlr.body + 8 : hdlr.body + 12] if hdlr else b""
    mdhd = _child(data, mdia, b"mdhd")
    scale, duration = _full_box_times(data, mdhd.body) if mdhd else (0, 0)
    entry, channels, rate, codec = _sample_entry(data, mdia)
    return _Track(track_id, handler, scale, duration, entry, channels, rate, codec, edits)


def _elst(data: bytes, elst: _Box) -> list[tuple[int, int]]:
    version = _slice(data, elst.body, 1)[0]
    count = _u32be(data, elst.body + 4)
    width = 20 if version == 1 else 12
    if count * width > elst.end - elst.body - 8:
        raise _Damaged("the edit list is cut short")
    edits = []
    for i in range(min(count, 64)):
        o = elst.body + 8 + i * width
        if version == 1:
            seg, media = _u64be(data, o), struct.unpack_from(">q", data, o + 8)[0]
        else:
            seg, media = _u32be(data, o), struct.unpack_from(">i", data, o + 4)[0]
        edits.append((seg, media))
    return edits


def _sample_entry(data: bytes, mdia: _Box) -> tuple[bytes, int | None, int | None, str | None]:
    """(entry type, channels, rate, codec) from the first stsd entry of an audio track."""
    minf = _child(data, mdia, b"minf")
    stbl = _child(data, minf, b"stbl") if minf else None
    stsd = _child(data, stbl, b"stsd") if stbl else None
    if stsd is None or stsd.end - stsd.body < 8 + 36:
        return b"", None, None, None
    entry = stsd.body + 8
    kind = data[entry + 4 : entry + 8]
    version = _u16be(data, entry + 16)
    if version == 2:
        rate = int(struct.unpack_from(">d", _slice(data, entry + 40, 8))[0]) if entry + 48 <= stsd.end else 0
        channels = _u32be(data, entry + 48) if entry + 52 <= stsd.end else 0
        children = entry + 72
    else:
        channels, rate = _u16be(data, entry + 24), _u32be(data, entry + 32) >> 16
        children = entry + 36 + (16 if version == 1 else 0)
    codec = _MP4_CODECS.get(kind, kind.decode("latin-1").strip() or None)
    if kind == b"mp4a":
        codec = _mp4a_codec(data, children, min(stsd.end, entry + _u32be(data, entry)))
    return kind, (channels or None), (rate or None), codec


def _mp4a_codec(data: bytes, start: int, end: int) -> str:
    """mp4a is a wrapper: esds's objectTypeIndication says AAC or MP3 inside."""
    for box in _boxes(data, start, end) if start < end else []:
        if box.type == b"esds":
            i = box.body + 4
            for _ in range(4):  # ES_Descriptor, then DecoderConfigDescriptor
                if i >= box.end:
                    break
                tag = data[i]
                i += 1
                for _ in range(4):  # expandable length
                    if i >= box.end or not data[i] & 0x80:
                        break
                    i += 1
                i += 1
                if tag == 0x03:  # ES_ID, flags, then the optional fields in this order
                    flags = data[i + 2] if i + 2 < box.end else 0
                    i += 3 + (2 if flags & 0x80 else 0)
                    if flags & 0x40 and i < box.end:
                        i += 1 + data[i]
                    i += 2 if flags & 0x20 else 0
                elif tag == 0x04 and i < box.end:
                    return {0x69: "mp3", 0x6B: "mp3", 0xDD: "vorbis", 0xAD: "opus"}.get(data[i], "aac")
    return "aac"


def _mp4_track_seconds(data: bytes, top: list[_Box], moov: _Box, track: _Track, movie_scale: int) -> float | None:
    if not track.timescale:
        return None
    media = track.duration or _fragment_duration(data, top, moov, track.track_id)
    presented = [(seg, t) for seg, t in track.edits if t != -1]
    if presented and movie_scale:
        span = sum(seg for seg, _ in presented)
        if span:
            seconds = span / movie_scale
            return min(seconds, media / track.timescale) if media else seconds
        if media:
            return max(0, media - presented[0][1]) / track.timescale
    if media:
        return media / track.timescale
    mvex = _child(data, moov, b"mvex")
    mehd = _child(data, mvex, b"mehd") if mvex else None
    if mehd is not None and movie_scale:
        v1 = _slice(data, mehd.body, 1)[0] == 1
        fragment = _u64be(data, mehd.body + 4) if v1 else _u32be(data, mehd.body + 4)
        return fragment / movie_scale if fragment else None
    return None


def _fragment_duration(data: bytes, top: list[_Box], moov: _Box, track_id: int) -> int:
    """Sum of the track's sample durations over every moof (fragmented MP4)."""
    default = 0
    mvex = _child(data, moov, b"mvex")
    for trex in _boxes(data, mvex.body, mvex.end) if mvex else []:
        if trex.type == b"trex" and _u32be(data, trex.body + 4) == track_id:
            default = _u32be(data, trex.body + 12)
    total = 0
    for moof in top:
        if moof.type != b"moof":
            continue
        for traf in _boxes(data, moof.body, moof.end):
            if traf.type == b"traf":
                total += _traf_duration(data, traf, track_id, default)
    return total


def _traf_duration(data: bytes, traf: _Box, track_id: int, default: int) -> int:
    total = 0
    for box in _boxes(data, traf.body, traf.end):
        if box.type == b"tfhd":
            flags = _u32be(data, box.body) & 0xFFFFFF
            if _u32be(data, box.body + 4) != track_id:
                return 0
            o = box.body + 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
            if flags & 0x08:
                default = _u32be(data, o)
        elif box.type == b"trun":
            total += _trun_duration(data, box, default)
    return total


def _trun_duration(data: bytes, trun: _Box, default: int) -> int:
    flags = _u32be(data, trun.body) & 0xFFFFFF
    count = _u32be(data, trun.body + 4)
    o = trun.body + 8 + (4 if flags & 0x001 else 0) + (4 if flags & 0x004 else 0)
    if not flags & 0x100:
        return count * default
    stride = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit)
    if count * stride > trun.end - o:
        raise _Damaged("a fragment's sample table is cut short")
    return sum(_u32be(data, o + i * stride) for i in range(count))


# --------------------------------------------------------------------------
# MP3 (MPEG audio layer III)
# --------------------------------------------------------------------------


class _Mpeg(NamedTuple):
    signature: int  # version, layer and sample-rate bits: equal across one stream's frames
    version: int  # 1, 2 or 25 (MPEG 2.5)
    layer: int
    rate: int
    length: int  # bytes, padding included
    samples: int


_SYNC_WINDOW = 64 * 1024  # how far to look for the first frame, or the next after lost sync
_MAX_WALK_BYTES = 64 * 1024 * 1024  # longer files are extrapolated, keeping the walk bounded

_BITRATES = {
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (2, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}


def _build_mpeg_table() -> dict[int, _Mpeg]:
    """Every valid (second, third) header byte pair -> frame facts, so the walk is a dict lookup."""
    table: dict[int, _Mpeg] = {}
    for b1 in range(0xE0, 0x100):
        version = {0: 25, 2: 2, 3: 1}.get((b1 >> 3) & 3)
        layer = {1: 3, 2: 2, 3: 1}.get((b1 >> 1) & 3)
        if version is None or layer is None:
            continue
        for b2 in range(256):
            bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
            if bitrate_index in (0, 15) or rate_index == 3:
                continue
            kbps = _BITRATES[(min(version, 2), layer)][bitrate_index]
            rate = _RATES[version][rate_index]
            if layer == 1:
                length, samples = (12000 * kbps // rate + padding) * 4, 384
            elif layer == 2 or version == 1:
                length, samples = 144000 * kbps // rate + padding, 1152
            else:
                length, samples = 72000 * kbps // rate + padding, 576
            table[(b1 << 8) | b2] = _Mpeg(((b1 & 0xFE) << 8) | (b2 & 0x0C), version, layer, rate, length, samples)
    return table


_MPEG_TABLE = _build_mpeg_table()
_SMALLEST_FRAME: dict[int, int] = {}
for _f in _MPEG_TABLE.values():
    _SMALLEST_FRAME[_f.signature] = min(_f.length, _SMALLEST_FRAME.get(_f.signature, _f.length))
del _f


def _frame_at(data: bytes, pos: int) -> _Mpeg | None:
    if pos < 0 or pos + 4 > len(data) or data[pos] != 0xFF:
        return None
    frame = _MPEG_TABLE.get((data[pos + 1] << 8) | data[pos + 2])
    if frame is None or data[pos + 3] & 3 == 2:  # emphasis 2 is reserved
        return None
    return frame


def _chain(data: bytes, pos: int, signature: int | None = None, need: int = 3) -> bool:
    """Do `need` consecutive frames of one stream start at pos (or 2+ that end the file exactly)?"""
    count = 0
    while count < need:
        if count >= 2 and (pos == len(data) or data[pos : pos + 3] == b"TAG"):
            return True
        frame = _frame_at(data, pos)
        if frame is None or (signature is not None and frame.signature != signature):
            return False
        signature = frame.signature
        pos += frame.length
        count += 1
    return True


def _find_mpeg_start(data: bytes, start: int, window: int, signature: int | None = None) -> int | None:
    """The first position in [start, start+window) where a chain of frames begins."""
    end = min(len(data), start + window)
    pos = data.find(b"\xff", start, end)
    while pos >= 0:
        if _chain(data, pos, signature, need=3 if signature is None else 2):
            return pos
        pos = data.find(b"\xff", pos + 1, end)
    return None


def _skip_id3(data: bytes, pos: int) -> int:
    """Skip ID3v2 tags (there may be several, and they may hold big cover images)."""
    for _ in range(16):
        if data[pos : pos + 3] != b"ID3" or pos + 10 > len(data):
            return pos
        size_bytes = data[pos + 6 : pos + 10]
        if any(b & 0x80 for b in size_bytes):
            return pos
        size = (size_bytes[0] << 21) | (size_bytes[1] << 14) | (size_bytes[2] << 7) | size_bytes[3]
        pos += 10 + size + (10 if data[pos + 5] & 0x10 else 0)
    return pos


def _parse_mp3(data: bytes, start: int, tagged: bool) -> AudioInfo:
    """Find the first run of frames, read a Xing/Info/VBRI header if there is one, else walk the frames.

    A Xing/Info header (LAME, FFmpeg) gives the frame count, and its LAME
    extension the encoder delay and padding, so the length is exact. Without
    one (old CBR files, stripped headers) the frame headers are walked: each is
    a dict lookup and a jump, so even a 10 MB file takes a fraction of a second.
    """
    first = _find_mpeg_start(data, start, _SYNC_WINDOW)
    frame = _frame_at(data, first) if first is not None else None
    if first is None or frame is None:
        raise _no_frames(data, start, tagged)
    if frame.layer != 3:
        version = "2.5" if frame.version == 25 else str(frame.version)
        raise _other_media(f"MPEG-{version} Layer {'I' * frame.layer} (MP{frame.layer}) audio")
    channels = 1 if data[first + 3] >> 6 == 3 else 2
    samples = _mp3_samples_from_header(data, first, frame, channels)
    if samples is None:
        samples = _mp3_samples_by_walking(data, first, frame, channels)
    return AudioInfo(
        format="mp3",
        duration=max(0, samples) / frame.rate,
        size=len(data),
        sample_rate=frame.rate,
        channels=channels,
        codec="mp3",
    )


def _no_frames(data: bytes, start: int, tagged: bool) -> Exception:
    """Why no MP3 frames were found: raw AAC behind an ID3 tag is common (podcast tools write it)."""
    if not tagged:
        return _Damaged("no MPEG audio frames")
    if _adts_frames(data, start) >= 3:
        return _other_media("raw AAC audio (ADTS) with an ID3 tag, not MP3")
    if start >= len(data):
        return _Damaged("it has an ID3 tag but no audio after it")
    return _Damaged("it has an ID3 tag but no MP3 audio frames after it")


class _XingInfo(NamedTuple):
    frames: int | None
    nbytes: int | None
    delay: int
    padding: int


def _xing(data: bytes, pos: int, frame: _Mpeg, channels: int) -> _XingInfo | None:
    """Read a Xing/Info (with LAME extension) or VBRI header from the first frame."""
    side = (32 if channels == 2 else 17) if frame.version == 1 else (17 if channels == 2 else 9)
    x = pos + 4 + side
    if data[x : x + 4] in (b"Xing", b"Info"):
        flags = _u32be(data, x + 4)
        o = x + 8
        frames = nbytes = None
        if flags & 1:
            frames, o = _u32be(data, o), o + 4
        if flags & 2:
            nbytes, o = _u32be(data, o), o + 4
        o += (100 if flags & 4 else 0) + (4 if flags & 8 else 0)
        delay = padding = 0
        if data[o : o + 4] in (b"LAME", b"Lavf", b"Lavc", b"L3.9") and o + 24 <= len(data):
            v = int.from_bytes(data[o + 21 : o + 24], "big")
            delay, padding = v >> 12, v & 0xFFF
        return _XingInfo(frames, nbytes, delay, padding)
    v = pos + 4 + 32
    if data[v : v + 4] == b"VBRI":
        return _XingInfo(_u32be(data, v + 14), _u32be(data, v + 10), 0, 0)
    return None


def _mp3_samples_from_header(data: bytes, first: int, frame: _Mpeg, channels: int) -> int | None:
    """Samples per the Xing/VBRI frame count, or None when absent or contradicted by the file's size."""
    info = _xing(data, first, frame, channels)
    if info is None or not info.frames:
        return None
    held = len(data) - first
    if info.nbytes and held < info.nbytes * 0.98:
        return None  # cut short: the header describes more than the file holds
    if info.frames * _SMALLEST_FRAME[frame.signature] > held * 1.05:
        return None  # more frames than could possibly fit: a lying header
    return info.frames * frame.samples - info.delay - info.padding


def _mp3_samples_by_walking(data: bytes, first: int, frame: _Mpeg, channels: int) -> int:
    """Count frames one header at a time, resyncing over junk, within a bounded window."""
    n = len(data)
    limit = min(n, first + _MAX_WALK_BYTES)
    table = _MPEG_TABLE
    signature = frame.signature
    pos, samples = first, 0
    while pos + 4 <= limit:
        if data[pos] == 0xFF:
            f = table.get((data[pos + 1] << 8) | data[pos + 2])
            if f is not None and f.signature == signature:
                if pos + f.length > n:
                    break  # a cut-short last frame
                samples += f.samples
                pos += f.length
                continue
        resync = _find_mpeg_start(data, pos + 1, _SYNC_WINDOW, signature)
        if resync is None:
            break
        pos = resync
    if limit < n and pos > first:
        samples = int(samples * (n - first) / (pos - first))
    info = _xing(data, first, frame, channels)
    if info is not None:  # the header frame itself is silent metadata that decoders drop
        samples -= frame.samples + info.delay + info.padding
    return samples


def _adts_frames(data: bytes, pos: int) -> int:
    """How many consecutive ADTS (raw AAC) frames start at pos (up to 3)."""
    count = 0
    while count < 3 and pos + 7 <= len(data):
        if data[pos] != 0xFF or data[pos + 1] & 0xF6 != 0xF0:
            break
        length = ((data[pos + 3] & 0x03) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
        if length < 7:
            break
        pos += length
        count += 1
    return count
