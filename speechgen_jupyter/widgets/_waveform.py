"""A small waveform picture of a sample, as inline SVG drawn with NumPy only.

Why: seeing the sample before sending it catches the common mistakes at a
glance (silence, a clipped recording, a long pause at the start). Why SVG and
not a plotting library: matplotlib would be a heavy dependency for one
picture, and an SVG of a min/max envelope is a few hundred bytes of text.

Decoding uses PyAV when it is installed (the `[local]` extra); without it,
plain PCM WAV is still read with the standard library's `wave` module, and
other formats simply get no picture (the checks still run: they read headers).
"""

from __future__ import annotations

import io
import wave
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["decode_mono", "waveform_svg"]

_MAX_DECODE_BYTES = 24 * 1024 * 1024  # past this nobody will upload it anyway; skip the picture


def decode_mono(data: bytes) -> tuple[np.ndarray, int] | None:
    """(float32 mono samples, rate), or None when this machine cannot decode the bytes."""
    if len(data) > _MAX_DECODE_BYTES:
        return None
    try:
        import av  # noqa: F401 - only to know whether PyAV is there

        from .._decode import decode_to_numpy
    except ImportError:
        return _decode_wav(data)
    try:
        return decode_to_numpy(data)
    except Exception:  # noqa: BLE001 - damaged or odd audio: no picture, the checks speak for it
        return _decode_wav(data)


def _decode_wav(data: bytes) -> tuple[np.ndarray, int] | None:
    import numpy as np

    try:
        with wave.open(io.BytesIO(data)) as w:
            width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError, ValueError):
        return None
    if width == 1:
        x = (np.frombuffer(frames, np.uint8).astype(np.float32) - 128) / 128
    elif width == 2:
        x = np.frombuffer(frames, "<i2").astype(np.float32) / 32768
    elif width == 4:
        x = np.frombuffer(frames, "<i4").astype(np.float32) / 2**31
    else:
        return None
    if channels > 1:
        x = x[: len(x) - len(x) % channels].reshape(-1, channels).mean(axis=1)
    return x.astype(np.float32), rate


def waveform_svg(samples: np.ndarray, rate: int, *, width: int = 480, height: int = 56) -> str:
    """A min/max envelope of `samples`, `width` columns wide, with the length written under it."""
    import numpy as np

    n = len(samples)
    seconds = n / rate if rate else 0.0
    mid = height / 2
    if n == 0:
        points = f"0,{mid} {width},{mid}"
    else:
        cols = min(width, n)
        edges = np.linspace(0, n, cols + 1).astype(int)
        hi = np.maximum.reduceat(samples, edges[:-1])
        lo = np.minimum.reduceat(samples, edges[:-1])
        xs = np.linspace(0, width, cols)
        top = [f"{x:.1f},{mid - max(float(v), 0.0) * mid:.1f}" for x, v in zip(xs, hi)]
        bottom = [f"{x:.1f},{mid - min(float(v), 0.0) * mid:.1f}" for x, v in zip(xs[::-1], lo[::-1])]
        points = " ".join(top + bottom)
    return (
        f'<svg class="sg-waveform" width="{width}" height="{height + 14}" viewBox="0 0 {width} {height + 14}" '
        f'role="img" aria-label="waveform of the sample, {seconds:.1f} seconds">'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="rgba(127,127,127,.08)"/>'
        f'<line x1="0" y1="{mid}" x2="{width}" y2="{mid}" stroke="rgba(127,127,127,.4)" stroke-width="1"/>'
        f'<polygon points="{points}" fill="#3b78c3" stroke="#3b78c3" stroke-width="0.5"/>'
        f'<text x="0" y="{height + 11}" font-size="10" fill="currentColor">0 s</text>'
        f'<text x="{width}" y="{height + 11}" font-size="10" text-anchor="end" fill="currentColor">{seconds:.1f} s</text>'
        "</svg>"
    )
