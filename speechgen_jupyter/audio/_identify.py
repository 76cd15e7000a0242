"""Which container is this? Magic bytes and structure, never the file name."""

from __future__ import annotations

import json
from typing import Callable

from .._content import as_text  # one test of "this reads as text", shared with the client's answer checks
from ._base import (
    _LABELS,
    _TAKES,
    AudioInfo,
    _Damaged,
    _not_audio,
    _other_media,
    _Refuse,
    _u32be,
)
from ._flac import _parse_flac
from ._mp3 import _SYNC_WINDOW, _adts_frames, _find_mpeg_start, _parse_mp3, _skip_id3
from ._mp4 import _parse_mp4
from ._ogg import _parse_ogg
from ._wav import _parse_wav

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
    (0, b"ADIF", lambda: _other_media("raw AAC audio (ADIF) without an M4A container")),
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
    text = as_text(data[:8192])
    if text is not None:
        return _not_audio(_describe_text(text, data))
    first = " ".join(f"{b:02x}" for b in data[:8])
    return _Refuse(
        f"is not audio Speechgen can read: its content is not MP3, WAV, M4A, FLAC or OGG, whatever its name says "
        f"(it starts with bytes {first}). {_TAKES}"
    )


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


