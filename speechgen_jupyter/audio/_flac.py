"""FLAC: length from STREAMINFO, or from the last frame header when a streaming writer left it 0."""

from __future__ import annotations

from typing import NamedTuple

from ._base import AudioInfo, _Damaged, _slice, _u16be, _u32be


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
    A file that ends inside or right after its metadata holds no audio
    whatever STREAMINFO promises (mutagen's test corpus has such files; FFmpeg,
    and so the server, cannot read them), so it is refused as cut short.
    """
    pos = start + 4
    block_header = _u32be(data, pos)
    if (block_header >> 24) & 0x7F != 0 or (block_header & 0xFFFFFF) < 34:
        raise _Damaged("the first metadata block is not STREAMINFO")
    si = _read_streaminfo(_slice(data, pos + 4, 34))
    if _audio_start(data, pos) >= len(data):
        raise _Damaged("it ends before its first audio frame")
    total = si.total_samples or _flac_tail_samples(data, pos + 8 + 34, si)
    return AudioInfo(
        format="flac",
        duration=total / si.rate if total else None,
        size=len(data),
        sample_rate=si.rate,
        channels=si.channels,
        codec="flac",
    )


_MAX_METADATA_BLOCKS = 1024  # real files have a handful; the cap keeps a hostile chain cheap


def _audio_start(data: bytes, pos: int) -> int:
    """Where the frames begin: after the metadata block flagged last (or at a frame sync, type 127)."""
    for _ in range(_MAX_METADATA_BLOCKS):
        if pos + 4 > len(data):
            return len(data)
        header = data[pos]
        if header & 0x7F == 0x7F:  # "invalid" by the spec, so that a frame sync is never read as a block
            return pos
        pos += 4 + int.from_bytes(data[pos + 1 : pos + 4], "big")
        if header & 0x80:
            return pos
    return pos


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


