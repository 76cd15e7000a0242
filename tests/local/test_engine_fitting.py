"""Neural clones: the nearest neural voice, moved toward the sample, within the fitting budget.

The references are espeak voices moved far from any built-in voice (as in
test_engine_clone.py): a clone can only land near them by measuring and
searching. What a user would check: a female sample gives a clone on the
female voice and a male one on the male voice; the clone speaks at the
sample's pitch, not its base's; the fit takes the time it was given and no
more than one candidate beyond it; it never ends less like the sample than
the voice it started from; a stored profile speaks the same.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import media
from speechgen_jupyter.local.engine import DecodedAudio, NeuralProfile, fit_neural, profile_from_dict, synthesize
from speechgen_jupyter.local.engine.analysis import measure
from speechgen_jupyter.local.engine.espeak import EspeakVoiceSpec

LOW_MALE = EspeakVoiceSpec("gmw/en-US", "m4", pitch_hz=(62, 88), formant_scale=0.93, rate_wpm=125)
HIGH_FEMALE = EspeakVoiceSpec("gmw/en-US", "f5", pitch_hz=(205, 290), formant_scale=1.05, rate_wpm=235)
NEW_SENTENCE = "Yesterday afternoon the committee finally approved the plan to rebuild the old bridge over the river."


def _reference(spec: EspeakVoiceSpec) -> DecodedAudio:
    x, rate = media.speech(20.0, spec, sample_rate=16_000)
    return DecodedAudio(x, rate, "wav")


@pytest.fixture(scope="module")
def low() -> tuple[DecodedAudio, NeuralProfile]:
    audio = _reference(LOW_MALE)
    return audio, fit_neural(audio, 0.0)


@pytest.fixture(scope="module")
def high() -> tuple[DecodedAudio, NeuralProfile]:
    audio = _reference(HIGH_FEMALE)
    return audio, fit_neural(audio, 4.0)


def test_a_clone_starts_from_the_nearest_voice_of_the_samples_sex(low: tuple, high: tuple) -> None:
    assert low[1].base_voice == "en-us-joe"
    assert high[1].base_voice == "en-us-heart"


@pytest.mark.parametrize("who", ["low", "high"])
def test_a_clone_is_never_less_like_the_sample_than_its_base(who: str, request: pytest.FixtureRequest) -> None:
    profile: NeuralProfile = request.getfixturevalue(who)[1]
    assert profile.similarity is not None and profile.base_similarity is not None
    assert profile.similarity >= profile.base_similarity
    assert profile.candidates >= 2


def test_the_clone_moves_toward_the_samples_pitch(high: tuple) -> None:
    audio, profile = high
    ref = measure(audio.samples, audio.sample_rate, envelope=False)
    clone = measure(*synthesize(NEW_SENTENCE, profile), envelope=False)
    base = measure(*synthesize(NEW_SENTENCE, profile.base_voice), envelope=False)
    # The reference sits far above heart's own pitch; the clone is closer to it than heart is.
    assert abs(np.log(clone.pitch_hz / ref.pitch_hz)) < abs(np.log(base.pitch_hz / ref.pitch_hz)), (
        clone.summary(), base.summary(), ref.summary(),
    )  # fmt: skip


def test_the_search_spends_its_budget_and_stops() -> None:
    audio = _reference(HIGH_FEMALE)
    started = time.monotonic()
    profile = fit_neural(audio, 3.0)
    elapsed = time.monotonic() - started
    assert 3.0 <= elapsed < 3.0 + 4.0, elapsed  # past the budget by at most one candidate (and a loaded CI)
    assert profile.budget_seconds == 3.0 and profile.fit_seconds >= 3.0
    assert profile.candidates > 4  # it searched, beyond the base voices and the measured move


def test_a_stored_neural_profile_speaks_the_same(high: tuple) -> None:
    again = profile_from_dict(high[1].to_dict())
    assert again == high[1]
    first, rate = synthesize(NEW_SENTENCE, high[1])
    second, _ = synthesize(NEW_SENTENCE, again)
    assert rate == 24_000 and abs(len(first) / len(second) - 1) < 0.05
    a, b = measure(first, rate, envelope=False), measure(second, rate, envelope=False)
    assert abs(a.pitch_hz / b.pitch_hz - 1) < 0.03


def test_an_espeak_profile_stored_before_neural_voices_still_loads() -> None:
    old = {"base_voice": "en-us-male-2", "pitch_hz": 110.0, "pitch_range": 4.0, "formant_scale": 1.0, "rate_wpm": 170.0}
    profile = profile_from_dict(old)
    assert not isinstance(profile, NeuralProfile)
    x, rate = synthesize("Old voices keep speaking.", profile)
    assert x.size > rate
