"""Built-in voices speak real speech; voices differ; synthesis is thread-safe."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from speechgen_jupyter.local.engine import (
    BuiltinVoice,
    VoiceProfile,
    builtin_voices,
    get_builtin_voice,
    synthesize,
)
from speechgen_jupyter.local.engine.analysis import measure
from speechgen_jupyter.local.engine.vad import speech_seconds

SENTENCE = "The museum opens at nine in the morning, and the guided tours start half an hour later."  # 16 words


@pytest.fixture(scope="module")
def spoken() -> dict[str, tuple[np.ndarray, int]]:
    return {v.voice_id: synthesize(SENTENCE, v) for v in builtin_voices()}


def test_builtin_voices_are_distinct_and_stable() -> None:
    voices = builtin_voices()
    ids = [v.voice_id for v in voices]
    assert len(voices) >= 6 and len(set(ids)) == len(ids)
    assert {v.gender for v in voices} == {"male", "female"}
    espeak = [v for v in voices if v.engine == "espeak"]
    assert len({(v.espeak_language, v.espeak_variant) for v in espeak}) == len(espeak) == 8
    assert all(v.language == "en" for v in voices)
    assert "en-us-male-1" in ids and "en-us-female-1" in ids
    assert get_builtin_voice("en-us-male-1") == voices[ids.index("en-us-male-1")]
    assert get_builtin_voice("no-such-voice") is None


@pytest.mark.parametrize("voice_id", [v.voice_id for v in builtin_voices()])
def test_every_builtin_voice_speaks(voice_id: str, spoken: dict[str, tuple[np.ndarray, int]]) -> None:
    samples, rate = spoken[voice_id]
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert float(np.max(np.abs(samples))) <= 1.0
    duration = len(samples) / rate
    # 16 words at espeak's 175 wpm is ~5.5 s; a voice that mumbles or races is broken.
    assert 3.5 < duration < 8.0
    # Silero hears speech in most of it.
    assert speech_seconds(samples, rate) > 0.7 * duration


def test_male_and_female_voices_differ_in_pitch(spoken: dict[str, tuple[np.ndarray, int]]) -> None:
    pitch = {vid: measure(x, sr, envelope=False).pitch_hz for vid, (x, sr) in spoken.items()}
    male = [pitch[v.voice_id] for v in builtin_voices() if v.gender == "male"]
    female = [pitch[v.voice_id] for v in builtin_voices() if v.gender == "female"]
    assert max(male) < 125 < min(female)
    assert min(female) / max(male) > 1.4


def test_voice_id_string_and_unknown_id() -> None:
    x, rate = synthesize("Hello there.", "en-gb-male-1")
    assert rate == 22_050 and len(x) > 0.3 * rate
    with pytest.raises(KeyError):
        synthesize("Hello there.", "en-xx-robot-9")
    with pytest.raises(ValueError):
        synthesize("   ", "en-gb-male-1")


def test_profile_settings_change_the_voice() -> None:
    base = get_builtin_voice("en-us-male-2")
    assert isinstance(base, BuiltinVoice)
    high = VoiceProfile(base_voice=base.voice_id, pitch_hz=200, pitch_range=4, formant_scale=1.0, rate_wpm=175, espeak_pitch_hz=(180.0, 230.0))
    slow = VoiceProfile(base_voice=base.voice_id, pitch_hz=100, pitch_range=4, formant_scale=1.0, rate_wpm=110)
    x0, sr = synthesize(SENTENCE, base)
    x1, _ = synthesize(SENTENCE, high)
    x2, _ = synthesize(SENTENCE, slow)
    assert measure(x1, sr, envelope=False).pitch_hz > 1.6 * measure(x0, sr, envelope=False).pitch_hz
    assert len(x2) > 1.3 * len(x0)


def test_profile_json_round_trip_tolerates_unknown_keys() -> None:
    p = VoiceProfile(base_voice="en-us-female-1", pitch_hz=210.5, pitch_range=5.2, formant_scale=1.04, rate_wpm=190, syllable_rate=5.1, espeak_pitch_hz=(180.0, 240.0))
    d = p.to_dict()
    assert d["espeak_pitch_hz"] == [180.0, 240.0]
    d["added_by_a_future_engine"] = {"x": 1}
    assert VoiceProfile.from_dict(d) == p
    import json

    assert VoiceProfile.from_dict(json.loads(json.dumps(p.to_dict()))) == p


def test_concurrent_synthesis_does_not_mix_voices() -> None:
    jobs = [("en-us-male-1", SENTENCE), ("en-us-female-2", SENTENCE), ("en-gb-male-1", "Short one."), ("en-us-female-1", SENTENCE * 2)]
    expected = {i: len(synthesize(text, vid)[0]) for i, (vid, text) in enumerate(jobs)}
    results: dict[int, list[int]] = {i: [] for i in range(len(jobs))}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(5):
                results[i].append(len(synthesize(jobs[i][1], jobs[i][0])[0]))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, lengths in results.items():
        # espeak's length wanders by a few ms between runs; a mixed-up buffer would be off by seconds.
        assert all(abs(n - expected[i]) < 0.05 * 22_050 for n in lengths), (jobs[i], lengths, expected[i])
