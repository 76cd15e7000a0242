"""enhance() really cleans: lower noise floor, same length, speech kept, level set."""

from __future__ import annotations

import numpy as np
import pytest

import media
from speechgen_jupyter.local.checks import SampleRejection, check_sample
from speechgen_jupyter.local.engine import DecodedAudio, decode, encode, enhance
from speechgen_jupyter.local.engine.analysis import measure
from speechgen_jupyter.local.engine.enhance import TARGET_LEVEL_DB, active_level_db


@pytest.fixture(scope="module")
def clean() -> np.ndarray:
    x, rate = media.speech(30.0, "en-us-female-1", sample_rate=16_000, start=4)
    assert rate == 16_000
    return x


def _pause_mask(clean: np.ndarray) -> np.ndarray:
    """Where the clean speech is silent for 50 ms or more: only noise there."""
    silent = (np.abs(clean) < 1e-4).astype(float)
    run = np.concatenate([[0.0], np.cumsum(silent)])
    width = 800
    full = (run[width:] - run[:-width]) >= width - 0.5  # window [i, i + 800) all silent
    mask = np.zeros(clean.size, dtype=bool)
    mask[width // 2 : width // 2 + full.size] = full
    return mask


def _floor_below_speech_db(y: np.ndarray, pauses: np.ndarray) -> float:
    """Noise power in the pauses relative to the active speech level (dB, negative)."""
    noise = 10 * np.log10(np.mean(y[pauses].astype(np.float64) ** 2))
    return noise - active_level_db(y, 16_000)


@pytest.mark.parametrize("snr_db", [5.0, 15.0])
def test_enhance_lowers_the_noise_floor_and_keeps_duration(clean: np.ndarray, snr_db: float) -> None:
    noisy = media.with_noise(clean, snr_db)
    audio = decode(encode(noisy, 16_000, "wav"))
    cleaned = enhance(audio)
    assert cleaned.sample_rate == audio.sample_rate
    assert len(cleaned.samples) == len(audio.samples)
    assert cleaned.container == "wav"
    pauses = _pause_mask(clean)
    assert pauses.sum() > 16_000  # at least a second of pauses to measure in
    before = _floor_below_speech_db(audio.samples, pauses)
    after = _floor_below_speech_db(cleaned.samples, pauses)
    assert after < before - 10.0, (before, after)
    # The speech survives: same pitch, and the syllable count is no worse.
    ref = measure(clean, 16_000, envelope=False)
    got = measure(cleaned.samples, 16_000, envelope=False)
    assert abs(got.pitch_hz / ref.pitch_hz - 1) < 0.05
    assert abs(got.syllable_rate / ref.syllable_rate - 1) < 0.15


def test_enhance_leaves_clean_speech_alone_but_sets_its_level(clean: np.ndarray) -> None:
    quiet = clean * 0.05
    cleaned = enhance(DecodedAudio(quiet, 16_000, "flac"))
    assert np.corrcoef(quiet, cleaned.samples)[0, 1] > 0.99
    assert active_level_db(cleaned.samples, 16_000) == pytest.approx(TARGET_LEVEL_DB, abs=0.5)
    assert float(np.max(np.abs(cleaned.samples))) <= 10 ** (-1 / 20) + 1e-6


def test_enhance_removes_rumble(clean: np.ndarray) -> None:
    t = np.arange(clean.size) / 16_000
    hum = (clean + 0.2 * np.sin(2 * np.pi * 40 * t)).astype(np.float32)
    cleaned = enhance(DecodedAudio(hum, 16_000, "wav")).samples
    spectrum = lambda y: np.abs(np.fft.rfft(y / np.sqrt(np.mean(y**2))))  # noqa: E731
    bin40 = int(40 * clean.size / 16_000)
    assert spectrum(cleaned)[bin40] < 0.2 * spectrum(hum)[bin40]


def test_enhance_quality_lets_a_noisy_sample_through(clean: np.ndarray) -> None:
    data = media.encode(media.with_noise(clean, 2.0), "mp3")
    with pytest.raises(SampleRejection) as info:
        check_sample(data, "noisy.mp3")
    assert info.value.code == "too_noisy" and "enhance_quality" in info.value.message
    audio = check_sample(data, "noisy.mp3", enhance_quality=True)
    assert audio.duration == pytest.approx(30.0, abs=0.1)


# ---- block by block: the same result as all frames at once, in a few MB --------------------------


def _enhance_in_one_pass(x: np.ndarray, rate: int) -> np.ndarray:
    """The algorithm with every STFT frame in memory at once (how enhance() used to run), as a reference."""
    from speechgen_jupyter.local.engine.enhance import GAIN_FLOOR, OVERSUBTRACT, PEAK_LIMIT, RUMBLE_HZ
    from speechgen_jupyter.local.engine.vad import FRAME_SECONDS, speech_probabilities

    y = x.astype(np.float64) - float(np.mean(x.astype(np.float64)))
    n = 1 << int(np.ceil(np.log2(0.032 * rate)))
    hop = n // 4
    padded = np.pad(y, (n, n + (-(y.size + n) % hop)))
    spec = np.fft.rfft(np.lib.stride_tricks.sliding_window_view(padded, n)[::hop] * np.hanning(n), axis=1)
    power = np.abs(spec) ** 2
    times = (np.arange(spec.shape[0]) * hop - n + n / 2) / rate
    probs = speech_probabilities(x, rate)
    speechy = np.convolve((probs > 0.3).astype(float), np.ones(2 * round(0.1 / FRAME_SECONDS) + 1), mode="same") > 0
    speech = speechy[np.clip((times / FRAME_SECONDS).astype(int), 0, probs.size - 1)]
    quiet = ~speech & (times >= 0) & (times <= y.size / rate)
    if np.count_nonzero(quiet) * hop / rate >= 0.5:
        noise = np.mean(power[quiet], axis=0)
    else:
        noise = np.percentile(power, 10, axis=0) / 0.105
    gain = np.maximum(1.0 - OVERSUBTRACT * noise / np.maximum(power, 1e-20), GAIN_FLOOR)
    p = np.pad(gain, 1, mode="edge")
    gain = sum(p[i : i + gain.shape[0], j : j + gain.shape[1]] for i in range(3) for j in range(3)) / 9.0
    gain[:, np.fft.rfftfreq(n, 1.0 / rate) < RUMBLE_HZ] = GAIN_FLOOR
    frames = np.fft.irfft(spec * gain, n=n, axis=1) * np.hanning(n)
    out = np.zeros(padded.size + n)
    for j in range(n // hop):
        out[j * hop : j * hop + frames.shape[0] * hop] += frames[:, j * hop : (j + 1) * hop].reshape(-1)
    cleaned = out[n : n + y.size] / (np.sum(np.hanning(n) ** 2) / hop)
    level = active_level_db(cleaned, rate)
    cleaned *= 10 ** ((TARGET_LEVEL_DB - level) / 20)
    cleaned *= min(1.0, PEAK_LIMIT / float(np.max(np.abs(cleaned))))
    return cleaned.astype(np.float32)


@pytest.mark.parametrize("pauses", [True, False], ids=["noise-from-pauses", "noise-from-percentile"])
def test_blocks_give_the_one_pass_result(pauses: bool) -> None:
    x, rate = media.speech(10.0, "en-us-male-2", sample_rate=16_000)
    if pauses:  # two seconds without speech: the noise is measured there
        x = np.concatenate([x, np.zeros(2 * rate, np.float32), x])
    else:  # speech throughout: the noise is a low percentile of every bin
        x = np.concatenate([x, x])
    noisy = media.with_noise(x, 5.0, seed=2)
    got = enhance(DecodedAudio(noisy, rate, "wav")).samples
    want = _enhance_in_one_pass(noisy, rate)
    assert got.shape == want.shape and got.dtype == np.float32
    assert np.max(np.abs(got - want)) < 1e-5


def test_enhance_holds_a_few_times_the_signal_not_forty() -> None:
    # tracemalloc sees every numpy allocation, so this is deterministic. All
    # frames at once (the old way) peaked at ~44x the signal.
    import tracemalloc

    x, rate = media.speech(60.0, "en-us-female-1", sample_rate=16_000)
    audio = DecodedAudio(media.with_noise(x, 10.0), rate, "wav")
    enhance(DecodedAudio(audio.samples[:rate], rate, "wav"))  # one-time set-up out of the way
    tracemalloc.start()
    try:
        cleaned = enhance(audio)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(cleaned.samples) == len(audio.samples)
    assert peak < 4 * audio.samples.nbytes, peak / audio.samples.nbytes
