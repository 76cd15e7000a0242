"""One pass over a sample's bytes: the 16 kHz mono signal the analysis needs, and clipping at the file's own rate.

Why one pass: a 5-minute sample must be judged in well under 15 s, and
decoding is the biggest fixed cost after Silero. Every measurement of the
report but clipping works on 16 kHz mono (Silero's rate; BS.1770 loudness
and the noise floor hardly move between 16 and 48 kHz for speech: -21.00
against -21.01 LUFS measured). Clipping cannot be judged after resampling
(the band-limited resampler rounds off flat tops), so while each frame is
decoded its samples near full scale are counted, per channel, at the
file's rate, and binned into the same 32 ms windows the analysis uses.

PyAV (the `[local]` extra) decodes all five accepted formats. Without it a
plain PCM WAV is still read with the standard library's `wave`, and
anything else is reported as not decodable here (the report then says
which checks it could not run).
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np

from ..sound.vad import VAD_RATE

__all__ = ["ANALYSIS_RATE", "WINDOW", "CLIP_LEVEL", "MAX_ANALYSIS_SECONDS", "Decoded", "NoDecoder", "decode_for_analysis"]

ANALYSIS_RATE = VAD_RATE
#: Samples at 16 kHz per analysis window (Silero's 32 ms).
WINDOW = 512
#: A sample this close to full scale counts as clipped: 0.1 dB below it,
#: which also catches MP3's ripple around a flat top (measured: speech
#: driven 3x into clipping keeps 0.3 % of its MP3 samples above this).
CLIP_LEVEL = 10 ** (-0.1 / 20)
#: Decoding stops here: the widgets let a user select 5 minutes of a longer
#: recording, but a 10 MB file at a low bit rate could hold hours.
MAX_ANALYSIS_SECONDS = 20 * 60.0


class NoDecoder(Exception):
    """This machine cannot decode these bytes (no PyAV, and not a plain PCM WAV); `reason` says what to install."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Decoded:
    """A sample as the analysis sees it.

    `x16`: float32 mono at 16 kHz in [-1, 1]. `clipped` and `peak`: per 32 ms
    window of `x16`, how many of the file's own samples (all channels) were
    at full scale, and the largest magnitude there. `rate`/`channels`: the
    file's. `duration`: seconds decoded at the file's rate (`truncated` when
    decoding stopped at `MAX_ANALYSIS_SECONDS`).
    """

    x16: np.ndarray
    clipped: np.ndarray
    peak: np.ndarray
    rate: int
    channels: int
    duration: float
    truncated: bool = False

    @property
    def windows(self) -> int:
        return self.x16.size // WINDOW


class _Binner:
    """Accumulates clipped counts and peaks per analysis window from frames at the file's rate."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.pos = 0  # samples per channel so far
        self.clipped: list[np.ndarray] = []
        self.peak: list[np.ndarray] = []
        self.first: list[int] = []

    def add(self, planes: np.ndarray) -> None:
        """`planes`: float32, shape (channels, n)."""
        n = planes.shape[1]
        if n == 0:
            return
        mag = np.abs(planes)
        loud = np.count_nonzero(mag >= CLIP_LEVEL, axis=0)
        top = mag.max(axis=0)
        ids = (np.arange(self.pos, self.pos + n, dtype=np.int64) * ANALYSIS_RATE // self.rate) // WINDOW
        starts = np.concatenate(([0], np.flatnonzero(np.diff(ids)) + 1))
        self.first.append(int(ids[0]))
        self.clipped.append(np.add.reduceat(loud, starts))
        self.peak.append(np.maximum.reduceat(top, starts))
        self.pos += n

    def finish(self, windows: int) -> tuple[np.ndarray, np.ndarray]:
        clipped = np.zeros(windows + 2, dtype=np.int64)
        peak = np.zeros(windows + 2, dtype=np.float32)
        for first, c, p in zip(self.first, self.clipped, self.peak):
            idx = np.minimum(first + np.arange(c.size), windows + 1)
            np.add.at(clipped, idx, c)
            np.maximum.at(peak, idx, p)
        return clipped[:windows], peak[:windows]


def _planes(array: np.ndarray, channels: int, planar: bool) -> np.ndarray:
    """A PyAV frame's samples as float32 (channels, n) in [-1, 1]-ish, whatever the sample format."""
    if array.dtype == np.int16:
        x = array.astype(np.float32) / 32768.0
    elif array.dtype == np.int32:
        x = array.astype(np.float32) / 2147483648.0
    elif array.dtype == np.uint8:
        x = (array.astype(np.float32) - 128.0) / 128.0
    else:
        x = array.astype(np.float32, copy=False)
    if planar:
        return x.reshape(channels, -1)
    return x.reshape(-1, channels).T


def decode_for_analysis(data: bytes) -> Decoded:
    """Decode once: the 16 kHz mono signal plus clipping at the file's rate. Raises `NoDecoder`, or ValueError for damaged audio."""
    try:
        import av
    except ImportError:
        return _decode_wav(data)
    return _decode_av(av, data)


def _decode_av(av: object, data: bytes) -> Decoded:
    chunks: list[np.ndarray] = []
    try:
        container = av.open(io.BytesIO(data))  # type: ignore[attr-defined]
    except Exception as err:  # noqa: BLE001 - FFmpeg's errors are many; all mean "not readable audio"
        raise ValueError(f"not readable as audio ({err})") from err
    with container:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        channels = int(stream.codec_context.channels or 1)
        if rate <= 0:
            raise ValueError("no sample rate")
        binner = _Binner(rate)
        to16 = av.AudioResampler(format="flt", layout="mono", rate=ANALYSIS_RATE)  # type: ignore[attr-defined]
        limit = int(MAX_ANALYSIS_SECONDS * rate)
        truncated = False
        try:
            for frame in container.decode(stream):
                if binner.pos >= limit:
                    truncated = True
                    break
                ch = len(frame.layout.channels) or channels
                binner.add(_planes(frame.to_ndarray(), ch, frame.format.is_planar))
                for out in to16.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in to16.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except Exception as err:  # noqa: BLE001 - a file damaged part-way: judge what decoded
            if binner.pos == 0:
                raise ValueError(f"no sound could be decoded ({err})") from err
    x16 = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    x16 = np.clip(x16.astype(np.float32, copy=False), -1.0, 1.0)  # PyAV's downmix can overshoot (1.11)
    if binner.pos == 0:
        raise ValueError("no sound could be decoded")
    clipped, peak = binner.finish(x16.size // WINDOW)
    return Decoded(x16, clipped, peak, rate, channels, binner.pos / rate, truncated)


def _decode_wav(data: bytes) -> Decoded:
    """The standard library's way, for PCM WAV only: enough for the level checks without PyAV."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            frames = w.readframes(min(w.getnframes(), int(MAX_ANALYSIS_SECONDS * rate)))
            truncated = w.getnframes() > MAX_ANALYSIS_SECONDS * rate
    except (wave.Error, EOFError, ValueError) as err:
        raise NoDecoder(
            "decoding this file needs PyAV (pip install 'speechgen_jupyter[local]'); without it only plain PCM WAV is read"
        ) from err
    dtype = {1: np.uint8, 2: np.dtype("<i2"), 4: np.dtype("<i4")}.get(width)
    if dtype is None:
        raise NoDecoder(f"{8 * width}-bit WAV needs PyAV to decode (pip install 'speechgen_jupyter[local]')")
    raw = np.frombuffer(frames, dtype)
    raw = raw[: raw.size - raw.size % channels]
    planes = _planes(raw, channels, planar=False)
    binner = _Binner(rate)
    binner.add(planes)
    mono = planes.mean(axis=0)
    x16 = _linear_resample(mono, rate, ANALYSIS_RATE)
    clipped, peak = binner.finish(x16.size // WINDOW)
    return Decoded(x16, clipped, peak, rate, channels, planes.shape[1] / rate, truncated)


def _linear_resample(x: np.ndarray, rate: int, to: int) -> np.ndarray:
    """Linear interpolation: only the no-PyAV path uses it, for levels and the picture, never for Silero."""
    if rate == to or x.size == 0:
        return x.astype(np.float32)
    n = int(round(x.size * to / rate))
    return np.interp(np.arange(n) * (rate / to), np.arange(x.size), x).astype(np.float32)
