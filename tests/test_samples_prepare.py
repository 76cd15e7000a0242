"""`sg.prepare_sample`: cut, trim silence, even loudness, mono MP3/WAV; checked by decoding what it returns."""

from __future__ import annotations

import io

import av
import numpy as np
import pyloudnorm
import pytest
from media import encode, speech, stereo_wav

import speechgen_jupyter as sg
from speechgen_jupyter.errors import AudioValidationError, InvalidInputError
from speechgen_jupyter.sound.codec import resample
from speechgen_jupyter.sound.vad import speech_segments

RATE = 16_000


def decoded(data: bytes) -> tuple[np.ndarray, int, int]:
    """(mono float32, rate, channels) of a file, by PyAV, as the server would decode it."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        rate, channels = stream.codec_context.sample_rate, stream.codec_context.channels
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        parts = [o.to_ndarray().reshape(-1) for f in container.decode(stream) for o in resampler.resample(f)]
        parts += [o.to_ndarray().reshape(-1) for o in resampler.resample(None)]
    return np.concatenate(parts), rate, channels


def clicks(seconds: float, at: list[float], rate: int) -> np.ndarray:
    """Quiet hum with short loud clicks at known times: where a cut fell can be read off the result."""
    t = np.arange(int(seconds * rate)) / rate
    x = 0.05 * np.sin(2 * np.pi * 150 * t)
    for c in at:
        i = int(c * rate)
        x[i : i + rate // 200] = 0.9  # 5 ms
    return x.astype(np.float32)


def first_click(x: np.ndarray, rate: int) -> float:
    return float(np.argmax(np.abs(x) > 0.5)) / rate


@pytest.mark.parametrize(("fmt", "rate"), [("wav", 44_100), ("mp3", 44_100), ("mp3", 22_050), ("wav", 16_000)])
def test_a_cut_is_exact_to_10_ms(fmt, rate) -> None:
    original = encode(clicks(30.0, [3.7, 21.3], rate), "wav", rate)
    prepared = sg.prepare_sample(original, start=2.5, end=17.25, format=fmt)
    x, got_rate, channels = decoded(prepared)
    assert prepared.format == fmt and got_rate == rate and channels == 1
    assert abs(x.size / rate - 14.75) < 0.010  # the length cut
    assert abs(first_click(x, rate) - (3.7 - 2.5)) < 0.010  # and where: the click is where it was, moved by start
    assert abs(prepared.duration - 14.75) < 0.001 and (prepared.start, prepared.end) == (2.5, pytest.approx(17.25, abs=1e-4))
    assert repr(prepared).startswith(f"<PreparedSample sample-prepared.{fmt}: {fmt.upper()} mono {rate} Hz, 14.")


def test_trimming_silence_keeps_the_speech_and_a_quarter_second_around_it() -> None:
    x, _ = speech(20.0, sample_rate=RATE)
    padded = np.concatenate([np.zeros(6 * RATE, np.float32), x, np.zeros(5 * RATE, np.float32)])
    prepared = sg.prepare_sample(encode(padded, "mp3"), trim_silence=True, format="wav")
    y, rate, _ = decoded(prepared)
    segments = speech_segments(y, rate)
    assert abs(segments[0].start - 0.25) < 0.08 and abs(y.size / rate - segments[-1].end - 0.25) < 0.08
    assert 19.0 < y.size / rate < 21.0 and prepared.trimmed and 5.5 < prepared.start < 6.3


def test_loudness_is_set_and_peaks_are_held_below_minus_1_dbfs() -> None:
    x, _ = speech(15.0, sample_rate=RATE)
    quiet = sg.prepare_sample(encode(x * 0.05, "wav"), loudness=-24.0, format="wav")
    y, rate, _ = decoded(quiet)
    assert abs(pyloudnorm.Meter(rate).integrated_loudness(y.astype(np.float64)) - (-24.0)) < 0.5
    assert quiet.gain_db > 20 and not quiet.peak_limited and 20 * np.log10(np.max(np.abs(y))) <= -0.9
    # A peaky sample is turned up only as far as its peaks allow: never clipped.
    peaky = x * 0.05
    peaky[RATE : RATE + 40] = 0.5
    held = sg.prepare_sample(encode(peaky, "wav"), loudness=-14.0, format="wav")
    z, _, _ = decoded(held)
    assert np.max(np.abs(z)) <= 10 ** (-0.9 / 20) and held.loudness_lufs < -14.5 and held.peak_limited
    assert "held back by a peak at -1 dBFS" in repr(held)


def test_stereo_becomes_mono_and_auto_picks_mp3_when_wav_would_be_over_10_mb() -> None:
    x, _ = speech(12.0, sample_rate=RATE)
    prepared = sg.prepare_sample(stereo_wav(x, x, RATE))
    assert prepared.format == "wav" and decoded(prepared)[2] == 1
    long, _ = speech(150.0, sample_rate=RATE)
    big = sg.prepare_sample(encode(resample(long, RATE, 48_000), "wav", 48_000))  # 2:30 at 48 kHz: 14 MB as WAV
    assert big.format == "mp3" and len(big) < 10 * 1024 * 1024 and decoded(big)[1] == 48_000


def test_the_original_is_never_changed_and_nothing_is_written_unless_asked(tmp_path) -> None:
    x, _ = speech(14.0, sample_rate=RATE)
    path = tmp_path / "mine.mp3"
    path.write_bytes(original := encode(np.concatenate([np.zeros(3 * RATE, np.float32), x]), "mp3"))
    prepared = sg.prepare_sample(path, trim_silence=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.mp3"] and path.read_bytes() == original
    assert prepared.filename == "mine-prepared.wav"
    with pytest.raises(InvalidInputError, match="never changes the original"):
        sg.prepare_sample(path, save_to=path)
    assert path.read_bytes() == original
    saved = sg.prepare_sample(path, start=1.0, save_to=tmp_path / "out.wav")
    assert (tmp_path / "out.wav").read_bytes() == bytes(saved) and path.read_bytes() == original


def test_a_result_that_breaks_a_hard_limit_is_refused_with_the_reason() -> None:
    x, _ = speech(8.0, sample_rate=RATE)
    padded = np.concatenate([np.zeros(5 * RATE, np.float32), x])  # 13 s, of which 8 s speech
    with pytest.raises(AudioValidationError, match="sample-prepared.wav is 8.[0-9] seconds long"):
        sg.prepare_sample(encode(padded, "wav"), trim_silence=True)
    with pytest.raises(AudioValidationError, match="holds no speech"):
        sg.prepare_sample(encode(np.zeros(12 * RATE, np.float32), "wav"), trim_silence=True)
    with pytest.raises(InvalidInputError, match="start and end must pick a stretch"):
        sg.prepare_sample(encode(x, "wav"), start=5.0, end=2.0)


def test_a_prepared_sample_clones(serve) -> None:
    server = serve(transition="immediate")
    x, _ = speech(16.0, sample_rate=RATE)
    prepared = sg.prepare_sample(encode(np.concatenate([np.zeros(4 * RATE, np.float32), x]), "mp3"), trim_silence=True)
    with sg.Client(api_key=server.api_key, base_url=server.base_url) as client:
        model = client.wait_for_model(client.clone_voice(prepared, "Prepared", filename=prepared.filename))
    assert model.is_ready
