"""Ogg (Vorbis, Opus, FLAC): rate from the identification header, length from the last granule position."""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

from ._base import AudioInfo, _Damaged, _other_media, _u16le, _u32le
from ._flac import _read_streaminfo

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


