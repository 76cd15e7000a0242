"""Resample and encode float32 mono audio with PyAV: shared by the client and the local server.

Why here and not in `local/`: the client prepares samples (cut, cleaned,
re-encoded) before upload, and the client never imports the local server.
The server's codec (`local/engine/codec.py`) re-exports these, so both sides
resample and encode the same way. PyAV (the `[local]` extra) ships its own
FFmpeg; it is imported inside the functions, so importing this module costs
only NumPy.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["OUTPUT_FORMATS", "STREAMABLE_FORMATS", "encode", "encode_stream", "resample"]

#: What `encode` writes (and text-to-speech can return).
OUTPUT_FORMATS = ("mp3", "wav", "ogg", "flac")


def _as_mono_float(samples: np.ndarray) -> np.ndarray:
    """Float32, one dimension, peak at most 1.

    Scaling down (rather than clipping) keeps the waveform's shape when a
    downmix overshoots, which PyAV's stereo->mono does (peaks ~1.11).
    """
    out = np.asarray(samples, dtype=np.float32).reshape(-1)
    if out.size and not np.all(np.isfinite(out)):
        out = np.nan_to_num(out, nan=0.0, posinf=1.0, neginf=-1.0)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 1.0:
        out = out / peak
    return out


#: Samples handed to swresample at a time by `resample`: bounds the frame copies.
_RESAMPLE_BLOCK = 1 << 16


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample float32 mono with FFmpeg's swresample (band-limited, fast).

    Analysis runs at fixed rates (Silero VAD needs 16 kHz), and Opus only
    encodes at 8/12/16/24/48 kHz. The signal is fed in blocks into one
    preallocated output, so resampling 5 minutes costs the output and a
    block, not a frame copy of the input plus a list of pieces plus their
    concatenation. Always returns a new array (a copy when the rates match).
    """
    import av

    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if from_rate == to_rate or samples.size == 0:
        return samples.copy()
    want = int(round(samples.size * to_rate / from_rate))
    out = np.zeros(want, dtype=np.float32)  # what swresample leaves short stays silent
    filled = 0

    def put(frames: list[Any]) -> None:
        nonlocal filled
        for f in frames:
            part = f.to_ndarray().reshape(-1)[: want - filled]
            out[filled : filled + part.size] = part
            filled += part.size

    resampler = av.AudioResampler(format="flt", layout="mono", rate=to_rate)
    for start in range(0, samples.size, _RESAMPLE_BLOCK):
        block = np.ascontiguousarray(samples[start : start + _RESAMPLE_BLOCK])
        frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = from_rate
        frame.pts = start
        frame.time_base = Fraction(1, from_rate)
        put(resampler.resample(frame))
    put(resampler.resample(None))
    return out


# fmt -> (muxer, codec, allowed sample rates or None for any, options)
_ENCODERS: dict[str, tuple[str, str, tuple[int, ...] | None, dict[str, str]]] = {
    "mp3": ("mp3", "libmp3lame", (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000), {}),
    "wav": ("wav", "pcm_s16le", None, {}),
    "flac": ("flac", "flac", None, {}),
    # Opus in Ogg: FFmpeg's own Vorbis encoder is experimental and sounds worse.
    "ogg": ("ogg", "libopus", (8000, 12000, 16000, 24000, 48000), {}),
}

# Speech is mono and narrow-band enough that these keep it transparent and small.
_BIT_RATES = {"mp3": 64_000, "ogg": 48_000}


def encode(samples: np.ndarray, sample_rate: int, fmt: str, *, bit_rate: int | None = None) -> bytes:
    """Encode float32 mono into a complete file of `fmt` (one of OUTPUT_FORMATS).

    The rate is kept when the codec allows it, else moved to the nearest
    allowed rate above (MP3 and Opus have fixed lists). `bit_rate` (bits/s)
    overrides the lossy codecs' default, which suits generated speech; a
    sample prepared for cloning asks for more. Raises ValueError for an
    unknown format.
    """
    import av

    if fmt not in _ENCODERS:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    muxer, codec, rates, options = _ENCODERS[fmt]
    samples = _as_mono_float(samples)
    np.clip(samples, -1.0, 1.0, out=samples)
    rate = int(sample_rate)
    if rates is not None and rate not in rates:
        higher = [r for r in rates if r >= rate]
        target = higher[0] if higher else rates[-1]
        samples = resample(samples, rate, target)
        rate = target
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=muxer) as container:
        stream = container.add_stream(codec, rate=rate, options=options)
        stream.layout = "mono"
        stream.time_base = Fraction(1, rate)
        if fmt in _BIT_RATES:
            stream.bit_rate = bit_rate or _BIT_RATES[fmt]
        frame_size = stream.codec_context.frame_size or 4096
        pts = 0
        for start in range(0, len(samples), frame_size):
            chunk = samples[start : start + frame_size]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = rate
            frame.pts = pts
            frame.time_base = Fraction(1, rate)
            pts += len(chunk)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


class _Sink:
    """A write-only, non-seekable file for PyAV: what the muxer wrote since the last `take`.

    Non-seekable on purpose: the MP3 muxer then writes no Xing header (it
    would seek back to the start to fill one in), so every byte handed on
    is final the moment it is written.
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out


#: Formats that `encode_stream` can hand on piece by piece (frame-based, no header that needs the length).
STREAMABLE_FORMATS = ("mp3",)


def encode_stream(parts: Iterator[np.ndarray], sample_rate: int, fmt: str = "mp3") -> Iterator[bytes]:
    """Encode float32 mono arrays as one MP3, yielding the bytes each array completes.

    For a long text spoken sentence by sentence: the first sentence's audio
    is on the wire while the next is synthesized. The result is one valid
    CBR MP3 (no Xing header: its length is not known in advance).
    """
    import av

    if fmt not in STREAMABLE_FORMATS:
        raise ValueError(f"{fmt!r} cannot be streamed; choose one of {', '.join(STREAMABLE_FORMATS)}")
    muxer, codec, rates, options = _ENCODERS[fmt]
    rate = int(sample_rate)
    target = rate
    if rates is not None and rate not in rates:
        higher = [r for r in rates if r >= rate]
        target = higher[0] if higher else rates[-1]
    sink = _Sink()
    with av.open(sink, mode="w", format=muxer) as container:  # type: ignore[call-overload]
        stream = container.add_stream(codec, rate=target, options=options)
        stream.layout = "mono"
        stream.time_base = Fraction(1, target)
        stream.bit_rate = _BIT_RATES[fmt]
        pts = 0
        for part in parts:
            samples = _as_mono_float(part)
            np.clip(samples, -1.0, 1.0, out=samples)
            if target != rate:
                samples = resample(samples, rate, target)
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = target
            frame.pts = pts
            frame.time_base = Fraction(1, target)
            pts += samples.size
            for packet in stream.encode(frame):
                container.mux(packet)
            chunk = sink.take()
            if chunk:
                yield chunk
        for packet in stream.encode(None):
            container.mux(packet)
    chunk = sink.take()
    if chunk:
        yield chunk
