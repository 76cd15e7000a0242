"""WAV (RIFF / RF64 / BW64): length from the fmt and data chunks."""

from __future__ import annotations

import struct
from typing import NamedTuple

from ._base import AudioInfo, _Damaged, _slice, _u16le, _u32le, _u64le

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




