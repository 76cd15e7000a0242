"""Decoding audio bytes to NumPy, for users who want to analyse what they got.

This is the client side's only use of PyAV, imported on first call so that
the client itself never needs the local server's audio stack.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from .errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np


def decode_to_numpy(data: bytes) -> tuple[np.ndarray, int]:
    try:
        import av
        import numpy as np
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise ConfigurationError(
            "Decoding audio to NumPy needs PyAV and NumPy: pip install 'speechgen_jupyter[local]'"
        ) from err

    chunks: list[np.ndarray] = []
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or stream.rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    # A downmix can exceed full scale; callers expect [-1, 1].
    return np.clip(samples.astype(np.float32, copy=False), -1.0, 1.0), int(rate)
