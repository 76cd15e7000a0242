"""Every upload refusal on a real file, and real speech that must pass."""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

import media
from speechgen_jupyter.local.checks import SampleRejection, check_audio, check_sample
from speechgen_jupyter.local.engine import DecodedAudio, builtin_voices


def refusal(data: bytes, filename: str | None = None) -> SampleRejection:
    with pytest.raises(SampleRejection) as info:
        check_sample(data, filename)
    err = info.value
    assert err.message and str(err) == err.message
    return err


@pytest.fixture(scope="module")
def speech_16k() -> np.ndarray:
    """60 s of one engine voice at 16 kHz, cut to lengths by the tests."""
    x, rate = media.speech(60.0, "en-us-male-2", sample_rate=16_000)
    assert rate == 16_000
    return x


# ---- what the bytes are -------------------------------------------------------


def test_empty_file_is_400() -> None:
    err = refusal(b"", "me.mp3")
    assert (err.status, err.code) == (400, "empty_file")
    assert "empty" in err.message


def test_text_named_mp3_is_415() -> None:
    err = refusal(b"This is a shopping list, not a recording.\n" * 30, "voice.mp3")
    assert (err.status, err.code) == (415, "unsupported_audio_format")
    assert ".mp3" in err.message and "MP3 (recommended), WAV, M4A, FLAC or OGG" in err.message


def test_random_bytes_are_415() -> None:
    err = refusal(np.random.default_rng(3).bytes(50_000), "x.wav")
    assert (err.status, err.code) == (415, "unsupported_audio_format")


@pytest.mark.parametrize("fmt", ["mp3", "flac", "ogg"])
def test_file_cut_inside_its_header_is_unreadable(fmt: str, speech_16k: np.ndarray) -> None:
    data = media.encode(speech_16k[: 12 * 16_000], fmt)[:150]
    err = refusal(data, f"voice.{fmt}")
    assert (err.status, err.code) == (422, "unreadable_audio")
    assert fmt.upper() in err.message and "again" in err.message


def test_m4a_cut_in_half_is_unreadable(speech_16k: np.ndarray) -> None:
    # An M4A's index (moov) is written last: half a file has no playable audio.
    data = media.encode(speech_16k[: 20 * 16_000], "m4a")
    err = refusal(data[: len(data) // 2], "voice.m4a")
    assert (err.status, err.code) == (422, "unreadable_audio")


def test_zero_byte_truncation_is_empty() -> None:
    err = refusal(media.make_audio("wav", 12.0)[:0])
    assert err.code == "empty_file"


def test_other_container_is_415_and_named(speech_16k: np.ndarray) -> None:
    x = speech_16k[: 12 * 16_000]
    buf = io.BytesIO()
    with av.open(buf, "w", format="aiff") as c:
        s = c.add_stream("pcm_s16be", rate=16_000)
        s.layout = "mono"
        fr = av.AudioFrame.from_ndarray((x * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono")
        fr.sample_rate, fr.pts, fr.time_base = 16_000, 0, Fraction(1, 16_000)
        for p in s.encode(fr):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    err = refusal(buf.getvalue(), "voice.mp3")
    assert (err.status, err.code) == (415, "unsupported_audio_format")
    assert "AIFF" in err.message


# ---- duration ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", media.FORMATS)
def test_exactly_ten_seconds_passes_and_nine_point_nine_fails(fmt: str, speech_16k: np.ndarray) -> None:
    audio = check_sample(media.encode(speech_16k[: 160_000], fmt), f"me.{fmt}")
    assert audio.container == fmt and audio.duration >= 9.95
    err = refusal(media.encode(speech_16k[: 158_400], fmt), f"me.{fmt}")
    assert (err.status, err.code) == (422, "audio_too_short")
    assert "9.9 s" in err.message and "10 s to 5 minutes" in err.message


@pytest.fixture(scope="module")
def five_minutes() -> np.ndarray:
    x, _ = media.speech(301.0, "en-us-female-1", sample_rate=16_000)
    return x


@pytest.fixture(scope="module")
def five_minutes_m4a(five_minutes: np.ndarray) -> bytes:
    return media.encode(five_minutes[: 300 * 16_000], "m4a")


def test_five_minutes_passes_in_m4a(five_minutes_m4a: bytes) -> None:
    # AAC decodes ~1024 samples long: 300.0 s written must still pass.
    audio = check_sample(five_minutes_m4a, "long.m4a")
    assert 300.0 <= audio.duration < 300.25


def test_five_minutes_and_one_second_fails(five_minutes: np.ndarray) -> None:
    err = refusal(media.encode(five_minutes, "flac"), "long.flac")
    assert (err.status, err.code) == (422, "audio_too_long")
    assert "5 min 1.0 s" in err.message and "at most 5 minutes" in err.message


def test_hours_of_silent_flac_stop_decoding_early() -> None:
    err = refusal(media.make_audio("flac", 400.0, kind="silence"))
    assert err.code == "audio_too_long"


# ---- content ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["silence", "noise", "tone", "voiced"])
def test_no_speech(kind: str) -> None:
    err = refusal(media.make_audio("mp3", 20.0, kind=kind), "me.mp3")
    assert (err.status, err.code) == (422, "no_speech")
    assert "0.0 s of speech" in err.message


def test_heavy_noise_is_too_noisy(speech_16k: np.ndarray) -> None:
    noisy = media.with_noise(speech_16k[: 30 * 16_000], snr_db=0.0)
    err = refusal(media.encode(noisy, "wav"), "cafe.wav")
    assert (err.status, err.code) == (422, "too_noisy")
    assert "quiet" in err.message


def test_moderate_noise_passes(speech_16k: np.ndarray) -> None:
    noisy = media.with_noise(speech_16k[: 30 * 16_000], snr_db=20.0)
    report = check_audio(check_sample(media.encode(noisy, "wav")))
    assert 14.0 < report.snr_db < 26.0


@pytest.mark.parametrize(("first", "second", "fmt"), [("en-us-male-1", "en-us-female-2", "mp3"), ("en-gb-female-1", "en-gb-male-1", "ogg")])
def test_two_alternating_speakers(first: str, second: str, fmt: str) -> None:
    x, rate = media.two_speakers(45.0, first, second)
    err = refusal(media.encode(x, fmt, rate), f"interview.{fmt}")
    assert (err.status, err.code) == (422, "multiple_speakers")
    assert "one person" in err.message


@pytest.mark.parametrize(("voice", "fmt"), [(v.voice_id, media.FORMATS[i % len(media.FORMATS)]) for i, v in enumerate(builtin_voices())])
def test_clean_single_speaker_passes(voice: str, fmt: str) -> None:
    x, rate = media.speech(20.0, voice, sample_rate=16_000, start=2)
    audio = check_sample(media.encode(x, fmt, rate), f"me.{fmt}")
    assert isinstance(audio, DecodedAudio) and audio.container == fmt
    report = check_audio(audio)
    # Clean, one speaker: far from every refusal line, not just past it.
    assert report.speech_seconds > 15.0
    assert report.snr_db > 15.0
    assert report.speaker_gap_semitones < 3.0


def test_rejection_repr_carries_status_and_code() -> None:
    err = SampleRejection(422, "no_speech", "msg")
    assert "422" in repr(err) and "no_speech" in repr(err)


# ---- from a path, a file, or bytes: the same verdicts; check_upload keeps nothing --------------


def _verdict(check: Callable[[Any, str], Any], source: object) -> tuple[object, ...]:
    """(status, code, message) of a refusal, or ("ok", duration) of a pass."""
    try:
        result = check(source, "me.mp3")
    except SampleRejection as err:
        return (err.status, err.code, err.message)
    return ("ok", round(result.duration, 4))


@pytest.fixture(scope="module")
def cases(speech_16k: np.ndarray) -> dict[str, bytes]:
    return {
        "empty": b"",
        "text": b"This is a shopping list, not a recording.\n" * 30,
        "cut-header": media.encode(speech_16k[: 12 * 16_000], "mp3")[:150],
        "too-short": media.encode(speech_16k[:158_400], "flac"),
        "no-speech": media.make_audio("mp3", 20.0, kind="tone"),
        "too-noisy": media.encode(media.with_noise(speech_16k[: 30 * 16_000], snr_db=0.0), "wav"),
        "passes": media.encode(speech_16k[: 22 * 16_000], "ogg"),  # 22 s: the pitch track spans two blocks
    }


@pytest.mark.parametrize("case", ["empty", "text", "cut-header", "too-short", "no-speech", "too-noisy", "passes"])
def test_path_file_and_bytes_get_the_same_verdict(case: str, cases: dict[str, bytes], tmp_path: Path) -> None:
    from speechgen_jupyter.local.checks import check_upload

    data = cases[case]
    path = tmp_path / "upload.bin"  # no extension: nothing but the content may decide
    path.write_bytes(data)
    want = _verdict(check_sample, data)
    assert want[0] == "ok" if case == "passes" else want[0] in (400, 415, 422)
    assert _verdict(check_sample, path) == want
    with open(path, "rb") as f:
        assert _verdict(check_sample, f) == want
    # The server's check, from the path: the same refusal, word for word...
    assert _verdict(check_upload, path) == want
    if case == "passes":
        # ...and, on a pass, the same measurements as check_audio on the decoded samples.
        assert check_upload(path, "me.ogg") == check_audio(check_sample(data, "me.ogg"), "me.ogg")


def test_check_upload_rereads_a_file_object_to_judge_it_enhanced(speech_16k: np.ndarray) -> None:
    # A noisy sample with enhance_quality is decoded a second time (whole) for
    # enhancement: a file object is read from its start, each time.
    from speechgen_jupyter.local.checks import check_upload

    f = io.BytesIO(media.encode(media.with_noise(speech_16k[: 20 * 16_000], 2.0), "mp3"))
    f.read(1000)  # wherever the caller left it
    with pytest.raises(SampleRejection) as info:
        check_upload(f, "noisy.mp3")
    assert info.value.code == "too_noisy"
    report = check_upload(f, "noisy.mp3", enhance_quality=True)
    assert report.snr_db >= 6.0 and report.duration == pytest.approx(20.0, abs=0.1)


def test_check_sample_returns_16k_audio(speech_16k: np.ndarray) -> None:
    audio = check_sample(media.encode(speech_16k[: 12 * 16_000], "ogg"))  # Opus: decoded at 48 kHz
    assert audio.sample_rate == 16_000 and audio.samples.dtype == np.float32
    assert audio.duration == pytest.approx(12.0, abs=0.05)


def test_check_upload_of_five_minutes_holds_a_fraction_of_the_signal(five_minutes_m4a: bytes, tmp_path: Path) -> None:
    # The server's memory aim: the check must not hold the decoded signal
    # (19 MB for 5 minutes at 16 kHz), let alone the file as bytes. tracemalloc
    # counts every numpy allocation (deterministic); Praat's own block buffer is
    # outside it but bounded by the block size.
    import tracemalloc

    from speechgen_jupyter.local.checks import check_upload

    path = tmp_path / "long.m4a"
    path.write_bytes(five_minutes_m4a)
    signal_bytes = 300 * 16_000 * 4
    tracemalloc.start()
    try:
        report = check_upload(path, "long.m4a")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 300.0 <= report.duration < 300.25
    assert report.speech_seconds > 200.0 and report.snr_db > 15.0
    assert peak < signal_bytes / 3, peak / signal_bytes
