"""What is this body? Audio by its signature, or HTML, JSON, text, empty: named for a message.

A 200 is not proof of audio: a captive portal, a proxy's login page or a
misrouted base URL answers 200 with HTML, and a gateway may answer 200 with
`{"error": ...}`. The client checks what it was given before it calls it a
`Speech`, and when it refuses, the message names what came back in words a
user recognises ("an HTML page (text/html) starting '<!doctype html>...'").

Only the first bytes are looked at: the signatures sit at the start, and a
description needs no more. Standard library only, and no parsing beyond the
signature: whether an audio file is whole is the audio checks' business
(`speechgen_jupyter.audio`), this module only tells audio from not-audio.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Content", "as_text", "audio_format", "identify", "media_type_of"]

#: How many bytes of the body are enough to tell what it is and to quote it.
HEAD_BYTES = 512
_QUOTE_CHARS = 60

# ISO base media (MP4/M4A) files start with a box: 4 bytes of size, then its type.
_ISO_FIRST_BOXES = (b"ftyp", b"styp")


def audio_format(head: bytes) -> str | None:
    """The audio format its first bytes announce ("mp3", "wav", "ogg", "flac", "m4a"), or None."""
    if head[:3] == b"ID3":
        return "mp3"  # an ID3v2 tag opens MP3 files (FLAC behind one is rare enough to call it what it says)
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[4:8] in _ISO_FIRST_BOXES:
        return "m4a"
    if _mpeg_sync(head):
        return "mp3"
    return None


def _mpeg_sync(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a real version and layer, a real bitrate and rate.

    ADTS (raw AAC) shares the sync word but has layer 00, so it is not taken for MP3.
    """
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    rate = (head[2] >> 2) & 0b11
    return version != 0b01 and layer != 0b00 and bitrate not in (0b0000, 0b1111) and rate != 0b11


def media_type_of(content_type: str | None) -> str:
    """The bare, lower-cased media type of a Content-Type header ("" when there is none)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class Content:
    """What a body is: `kind` is "audio", "html", "json", "text", "empty" or "binary"."""

    kind: str
    media_type: str
    size: int | None
    audio_format: str | None = None
    quote: str = ""

    @property
    def is_audio(self) -> bool:
        return self.kind == "audio"

    def describe(self) -> str:
        """A phrase for a message: "an HTML page (text/html) starting '<!doctype html><title>Sign in'..."."""
        declared = f" ({self.media_type})" if self.media_type else " (no Content-Type)"
        if self.kind == "empty":
            return f"an empty body{declared}"
        label = {
            "audio": f"{(self.audio_format or '').upper()} audio",
            "html": "an HTML page",
            "json": "JSON",
            "text": "text",
        }.get(self.kind, "binary data")
        if self.kind == "binary" or self.kind == "audio":
            return f"{label}{declared} starting with bytes {self.quote}"
        return f"{label}{declared} starting {self.quote!r}" + ("..." if self.size is None or self.size > len(self.quote) else "")


def identify(head: bytes, content_type: str | None, size: int | None = None) -> Content:
    """Say what a body is from its first bytes (`head`) and its Content-Type.

    The bytes decide; the header only adds to the description. `size` is the
    body's whole length when known (to tell a quote from the whole body).
    """
    media_type = media_type_of(content_type)
    if not head:
        return Content("empty", media_type, 0)
    fmt = audio_format(head)
    if fmt is not None:
        return Content("audio", media_type, size, fmt, _hex(head))
    text = as_text(head)
    if text is None:
        return Content("binary", media_type, size, None, _hex(head))
    quote = " ".join(text.split())[:_QUOTE_CHARS]
    low = text.lstrip().lower()
    if low.startswith(("<!doctype html", "<html")) or "<html" in low[:1024] or media_type == "text/html":
        return Content("html", media_type, size, None, quote)
    if low.startswith(("{", "[")) or media_type.endswith("json"):
        return Content("json", media_type, size, None, quote)
    return Content("text", media_type, size, None, quote)


def _hex(head: bytes) -> str:
    return " ".join(f"{b:02x}" for b in head[:8])


def as_text(head: bytes) -> str | None:
    """The head as text if it reads as text, else None (the audio checks ask the same question).

    UTF-8 (a BOM dropped), or UTF-16 behind its BOM; a few bad characters are
    allowed, since a multi-byte character cut at the window's end leaves some.
    """
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
    return decoded if bad <= max(3, len(decoded) // 100) else None
