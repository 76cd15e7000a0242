"""MP4 / M4A: length from the audio track's edit list, mdhd, fragments or mvhd."""

from __future__ import annotations

import struct
from typing import NamedTuple

from ._base import (
    AudioInfo,
    _Damaged,
    _not_audio,
    _other_media,
    _slice,
    _u16be,
    _u32be,
    _u64be,
)

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


