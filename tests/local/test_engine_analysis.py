"""Praat in blocks measures what Praat in one pass measures, with a block of memory instead of the signal."""

from __future__ import annotations

import numpy as np
import parselmouth
import pytest

import media
from speechgen_jupyter.local.engine.analysis import BLOCK_SECONDS, TrackStream, measure, tracks


@pytest.fixture(scope="module")
def long_speech() -> np.ndarray:
    """35 s of speech at 16 kHz: three blocks (0-10, 10-20, 20-35 s), so two joins."""
    x, _ = media.speech(35.0, "en-us-male-2", sample_rate=16_000)
    return x


def _one_pass(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pitch = parselmouth.Sound(x.astype(np.float64), 16_000.0).to_pitch_ac(time_step=0.01, pitch_floor=60.0, pitch_ceiling=500.0)
    return np.asarray(pitch.xs()), np.asarray(pitch.selected_array["frequency"])


def test_blocked_pitch_matches_one_pass(long_speech: np.ndarray) -> None:
    assert long_speech.size > 3 * BLOCK_SECONDS * 16_000
    times, f0 = _one_pass(long_speech)
    got = tracks(long_speech, 16_000, time_step=0.01)
    # Same frames at the same times: no frame lost or doubled at a join.
    assert got.f0_times.size == times.size
    assert np.max(np.abs(got.f0_times - times)) < 1e-9
    # Voiced where one pass is voiced, at the same pitch (frame for frame on this voice).
    assert np.count_nonzero((got.f0 > 0) != (f0 > 0)) <= 0.002 * f0.size
    both = (got.f0 > 0) & (f0 > 0)
    assert np.median(np.abs(got.f0[both] / f0[both] - 1)) < 1e-6


def test_streaming_in_uneven_pieces_equals_the_whole(long_speech: np.ndarray) -> None:
    whole = tracks(long_speech, 16_000, time_step=0.02, intensity=True)
    x = long_speech
    stream = TrackStream(16_000, time_step=0.02, intensity=True, peak=max(float(x.max()) - float(x.mean()), float(x.mean()) - float(x.min())))
    for piece in np.array_split(x, 41):
        stream.feed(piece)
    fed = stream.finish()
    for a, b in zip((whole.f0_times, whole.f0, whole.db_times, whole.db), (fed.f0_times, fed.f0, fed.db_times, fed.db)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    assert fed.db.size > 0 and np.count_nonzero(fed.f0) > 0


def test_measure_of_a_long_sample_matches_one_pass(long_speech: np.ndarray) -> None:
    """The numbers a clone is fitted to: pitch, spread and rate as a single Praat pass gives them."""
    m = measure(long_speech, 16_000)
    _, f0 = _one_pass(long_speech)
    voiced = f0[f0 > 0]
    assert m.pitch_hz == pytest.approx(float(np.median(voiced)), rel=1e-3)
    p10, p90 = np.percentile(voiced, [10, 90])
    assert m.pitch_range_st == pytest.approx(12 * np.log2(p90 / p10), rel=1e-2)
    assert 3.0 < m.syllable_rate < 7.0 and m.speech_seconds > 28.0
    assert m.envelope is not None and np.isfinite(m.envelope).sum() > 200


def test_short_signals_are_one_block() -> None:
    x, _ = media.speech(15.0, "en-gb-female-1", sample_rate=16_000)
    times, f0 = _one_pass(x)
    got = tracks(x, 16_000, time_step=0.01)
    assert np.array_equal(got.f0, f0) and np.array_equal(got.f0_times, times)
