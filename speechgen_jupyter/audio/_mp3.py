"""MP3: length from a Xing/Info or VBRI header, else by walking frame headers."""

from __future__ import annotations

from typing import NamedTuple

from ._base import AudioInfo, _Damaged, _other_media, _u32be


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
