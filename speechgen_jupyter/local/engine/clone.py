"""Clone a voice on espeak: measure the sample, pick the nearest espeak voice, fit it.

The server builds clones on its neural voices (`fitting.fit_neural`) when
their packages are installed; this is the clone it makes without them, and
the "espeak clone" the benchmarks compare the neural one with.

What a clone carries: the reference's pitch (median and spread), its formant
scale (vocal-tract length) and its speaking rate, on the built-in voice whose
profile is nearest. Not a person's timbre: espeak is a formant synthesiser,
so a human reference comes out as "an espeak voice at their pitch, size and
pace". The docs must say so.

How: measure the reference once (Praat pitch, syllable nuclei, spectral
envelope); measure every built-in voice once per process reading the same
fixed text (cached); choose the base voice needing the least change and with
the most similar spectral shape; then a few synthesize-measure-correct
rounds on the fixed text move espeak's pitch line (Hz), pitch range and rate
(wpm) until the clone MEASURES like the reference. Formants are scaled
inside espeak (its voice file), not by a Praat transform after synthesis:
no extra cost per request and no resynthesis artefacts.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from . import espeak
from .analysis import VoiceMeasure, formant_ratio, measure
from .codec import AudioSource, DecodedAudio, decode, resample
from .texts import FIT_TEXT
from .voices import BuiltinVoice, VoiceProfile, espeak_voices

__all__ = ["ProfileError", "build_profile", "builtin_measures", "reference_audio", "FitReport"]

#: Reference audio analysed: enough for stable statistics, bounded cost.
MAX_ANALYSIS_SECONDS = 120.0
ANALYSIS_RATE = 16_000
MAX_ROUNDS = 4
#: Stop fitting when the clone measures this close to the reference.
PITCH_TOLERANCE = 0.02  # 2 % of median F0
RATE_TOLERANCE = 0.03  # 3 % of syllable rate
SPREAD_TOLERANCE = 0.10  # 10 % of the semitone spread
FORMANT_LIMITS = (0.85, 1.2)
#: Below this formant mismatch the base voice is left as it is: scaling an
#: already close voice can only add error (the notes measured it lowering
#: likeness).
FORMANT_DEADBAND = 0.02
PITCH_LIMITS_HZ = (55.0, 420.0)
RATIO_LIMITS = (1.03, 3.5)
#: espeak's median sits about this far from its base towards its top.
_PITCH_K = 0.65
#: Syllable rate grows more slowly than espeak's wpm (measured: +37 % wpm
#: gives +27-33 % syllables/s), hence the exponent on corrections.
_RATE_EXPONENT = 1.2
#: Semitone spread grows like (top/base - 1) ** 0.55 (measured on m1).
_SPREAD_EXPONENT = 1.8


class ProfileError(ValueError):
    """The sample has too little voiced speech to measure a voice from."""


@dataclass(frozen=True)
class FitReport:
    """What the last `build_profile` call did, for logs and benchmarks."""

    seconds: float
    rounds: int
    base_voice: str


_cache_lock = threading.Lock()
_builtin_measures: dict[str, VoiceMeasure] | None = None
_variant_pitch: dict[str, tuple[float, float]] = {}
last_fit: FitReport | None = None


def builtin_measures() -> dict[str, VoiceMeasure]:
    """Every espeak voice measured reading FIT_TEXT (once per process, ~1 s)."""
    global _builtin_measures
    with _cache_lock:
        if _builtin_measures is None:
            out = {}
            for voice in espeak_voices():
                x, rate = espeak.synth(FIT_TEXT, voice.spec())
                out[voice.voice_id] = measure(x, rate)
            _builtin_measures = out
        return _builtin_measures


def _pitch_line(voice: BuiltinVoice) -> tuple[float, float]:
    """The (base, top) Hz pitch line of the voice's espeak variant."""
    if voice.espeak_variant not in _variant_pitch:
        from pathlib import Path

        line = (82.0, 118.0)  # espeak's built-in default
        path = Path(espeak.data_path()) / "voices" / "!v" / voice.espeak_variant
        for text in path.read_text(encoding="utf-8").splitlines():
            words = text.split()
            if len(words) >= 3 and words[0] == "pitch":
                line = (float(words[1]), float(words[2]))
        _variant_pitch[voice.espeak_variant] = line
    return _variant_pitch[voice.espeak_variant]


def _distance(ref: VoiceMeasure, base: VoiceMeasure) -> tuple[float, float, float]:
    """(cost, formant ratio, shape match) of turning `base` into `ref`.

    The cost adds how far pitch and formants must move (big moves sound
    unnatural on espeak) and how different the spectral shape stays once
    formants are lined up (what fitting cannot change).
    """
    ratio, match = formant_ratio(ref, base)
    if not math.isfinite(ratio):
        ratio, match = 1.0, 0.9
    semitones = 12.0 * math.log2(ref.pitch_hz / base.pitch_hz)
    cost = (semitones / 6.0) ** 2 + (math.log(ratio) / 0.1) ** 2 + ((1.0 - match) / 0.03) ** 2
    return cost, ratio, match


def _clip(value: float, limits: tuple[float, float]) -> float:
    return float(min(max(value, limits[0]), limits[1]))


def reference_audio(source: AudioSource) -> DecodedAudio:
    """What `build_profile` analyses of an upload, and nothing more: its
    first `MAX_ANALYSIS_SECONDS`, decoded straight to `ANALYSIS_RATE`.

    Why: the clone worker reads the accepted upload from disk; decoding all
    of a 5-minute file at its own rate (53 MB at 44.1 kHz) to keep 2
    minutes at 16 kHz (7.7 MB) would make the clone step, not the upload,
    the server's memory peak.
    """
    return decode(source, rate=ANALYSIS_RATE, max_seconds=MAX_ANALYSIS_SECONDS)


def build_profile(audio: DecodedAudio) -> VoiceProfile:
    """Fit a voice profile to a (checked) sample. ~0.5-1 s for 60 s of speech.

    Raises `ProfileError` when the sample has too little voiced speech to
    measure (the upload checks normally refuse such samples first).
    """
    global last_fit
    started = time.perf_counter()
    samples = audio.samples[: int(MAX_ANALYSIS_SECONDS * audio.sample_rate)]
    rate = audio.sample_rate
    if rate > ANALYSIS_RATE:
        samples = resample(samples, rate, ANALYSIS_RATE)
        rate = ANALYSIS_RATE
    ref = measure(samples, rate)
    if not math.isfinite(ref.pitch_hz) or ref.voiced_seconds < 1.0:
        raise ProfileError(
            f"The sample has only {ref.voiced_seconds:.1f} s of voiced speech; a voice cannot be measured from it."
        )
    target_pitch = _clip(ref.pitch_hz, PITCH_LIMITS_HZ)
    target_spread = ref.pitch_range_st if math.isfinite(ref.pitch_range_st) else 4.0
    target_syll = ref.syllable_rate if math.isfinite(ref.syllable_rate) and ref.syllable_rate > 0 else None

    measures = builtin_measures()
    voices = {v.voice_id: v for v in espeak_voices()}
    scored = sorted((_distance(ref, m) + (vid,) for vid, m in measures.items()), key=lambda t: t[0])
    _, ratio, match, base_id = scored[0]
    base = voices[base_id]
    base_m = measures[base_id]

    formant_scale = 1.0 if abs(math.log(ratio)) < FORMANT_DEADBAND else _clip(ratio, FORMANT_LIMITS)

    # Starting point from the base voice's own measurement (no synthesis needed).
    b0, t0 = _pitch_line(base)
    rho = t0 / b0
    if base_m.pitch_range_st > 0:
        rho = 1.0 + (rho - 1.0) * (target_spread / base_m.pitch_range_st) ** _SPREAD_EXPONENT
    rho = _clip(rho, RATIO_LIMITS)
    # Scale the base so the median moves to the target, allowing for the
    # median sitting higher above the base when the range widens.
    g_old = 1.0 + _PITCH_K * (t0 / b0 - 1.0)
    g_new = 1.0 + _PITCH_K * (rho - 1.0)
    pitch_base = b0 * (target_pitch / base_m.pitch_hz) * (g_old / g_new)
    wpm = base.rate_wpm
    if target_syll is not None:
        wpm = base.rate_wpm * (target_syll / base_m.syllable_rate) ** _RATE_EXPONENT
    wpm = _clip(wpm, (espeak.MIN_RATE_WPM, espeak.MAX_RATE_WPM))

    def spec() -> espeak.EspeakVoiceSpec:
        return espeak.EspeakVoiceSpec(
            language=base.espeak_language,
            variant=base.espeak_variant,
            pitch_hz=(pitch_base, pitch_base * rho),
            formant_scale=formant_scale,
            rate_wpm=wpm,
        )

    rounds = 0
    got: VoiceMeasure | None = None
    for rounds in range(1, MAX_ROUNDS + 1):
        x, srate = espeak.synth(FIT_TEXT, spec())
        got = measure(x, srate)
        if not (math.isfinite(got.pitch_hz) and math.isfinite(got.syllable_rate) and got.syllable_rate > 0):
            break  # cannot happen with espeak speech; never divide by NaN
        pitch_err = target_pitch / got.pitch_hz
        rate_err = (target_syll / got.syllable_rate) if target_syll else 1.0
        spread_err = target_spread / got.pitch_range_st if got.pitch_range_st > 0 else 1.0
        done = (
            abs(math.log(pitch_err)) < PITCH_TOLERANCE
            and abs(math.log(rate_err)) < RATE_TOLERANCE
            and abs(math.log(spread_err)) < SPREAD_TOLERANCE
        )
        if done or rounds == MAX_ROUNDS:
            break
        new_rho = _clip(1.0 + (rho - 1.0) * spread_err**_SPREAD_EXPONENT, RATIO_LIMITS)
        pitch_base *= pitch_err * (1.0 + _PITCH_K * (rho - 1.0)) / (1.0 + _PITCH_K * (new_rho - 1.0))
        pitch_base = _clip(pitch_base, (PITCH_LIMITS_HZ[0] * 0.8, PITCH_LIMITS_HZ[1]))
        rho = new_rho
        wpm = _clip(wpm * rate_err**_RATE_EXPONENT, (espeak.MIN_RATE_WPM, espeak.MAX_RATE_WPM))

    assert got is not None
    final = spec()
    last_fit = FitReport(seconds=time.perf_counter() - started, rounds=rounds, base_voice=base_id)
    return VoiceProfile(
        base_voice=base_id,
        pitch_hz=float(ref.pitch_hz),
        pitch_range=float(target_spread),
        formant_scale=float(formant_scale),
        rate_wpm=float(final.rate_wpm),
        syllable_rate=float(target_syll or got.syllable_rate),
        espeak_pitch_hz=(float(final.pitch_hz[0]), float(final.pitch_hz[1])) if final.pitch_hz else None,
        fit_pitch_hz=float(got.pitch_hz),
        fit_pitch_range=float(got.pitch_range_st),
        fit_syllable_rate=float(got.syllable_rate),
        fit_formant_ratio=float(formant_ratio(got, ref)[0]),
        base_match=float(match),
    )


def warm_up() -> None:
    """Pay every one-time cost now (espeak, Praat, Silero, built-in voice
    measurements: ~1.5 s), so the first clone or request is not the slow one.
    A server calls this once at start-up, off the request path.
    """
    from .vad import speech_seconds
    from .voices import neural_voices

    if not neural_voices():  # the espeak clone needs them; a neural clone measures its voices on first use
        builtin_measures()
    speech_seconds(np.zeros(16_000, np.float32), 16_000)
