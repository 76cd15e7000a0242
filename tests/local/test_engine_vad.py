"""Silero fed in pieces gives what one pass gives: the upload checks rely on it."""

from __future__ import annotations

import numpy as np

import media
from speechgen_jupyter.local.engine.vad import VAD_RATE, VadStream, speech_probabilities, windows


def test_stream_in_uneven_pieces_equals_one_pass() -> None:
    x, rate = media.speech(12.0, "en-us-female-1", sample_rate=VAD_RATE)
    whole = speech_probabilities(x, rate)
    got: list[np.ndarray] = []
    carry = np.zeros(0, np.float32)
    with VadStream() as vad:
        for piece in np.array_split(x, 37):  # pieces that never line up with 512-sample windows
            full, carry = windows(np.concatenate([carry, piece]))
            got.append(vad.process(full))
    joined = np.concatenate(got)
    assert joined.size == whole.size == x.size // 512
    assert np.array_equal(joined, whole)
    assert float(np.mean(whole > 0.5)) > 0.5  # it is speech: the comparison is not of zeros


def test_probabilities_of_other_rates_are_resampled() -> None:
    x, rate = media.speech(4.0, "en-us-male-1", sample_rate=22_050)
    assert speech_probabilities(x, rate).size == int(4.0 * VAD_RATE) // 512
