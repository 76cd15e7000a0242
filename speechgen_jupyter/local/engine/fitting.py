"""Clone on a neural voice: start from the nearest built-in voice, then search toward the sample.

What a neural clone is: one of the built-in neural voices (the one the
speaker encoder finds nearest the sample), with its pitch, pitch spread,
formants (vocal-tract length) and speaking rate moved toward the sample's.
Not the person's own voice: the timbre stays the built-in voice's, and the
README says so with measured figures.

How, within a time budget (`budget` seconds, ~50 by default, so the model is
ready about when the page's `estimated_completion` says):
1. Measure the sample once: its d-vector (`speaker`), and Praat's pitch
   median and spread, syllable rate and spectral envelope (`analysis`).
2. Each neural voice is measured once per process the same way, reading a
   fixed text; the nearest by d-vector cosine among the voices in the
   sample's pitch register (within `REGISTER` of its median pitch) is the
   base, and only voices in that register are searched. Why the register too: this encoder hears timbre more than pitch,
   and ranked an espeak bass at 74 Hz nearer the female voice than the male
   one (measured); an octave's move breaks a voice up.
3. The first candidate moves the base by what Praat measured (pitch and
   spread ratios, the envelope stretch that lines the formants up, the
   syllable-rate ratio); then a random local search around the best so far,
   in log space with a shrinking step, until the budget is spent.
4. Every candidate, the untouched base voice included, is scored by the
   d-vector cosine between the sample and the candidate reading SCORE_TEXT,
   a passage in neither the fitting text nor the benchmarks' sentences.
   The best wins, so a fit is never worse than its starting voice on that
   score: a move that lowers it is not kept (measure, don't assume).

The search spends the whole budget (it does not stop early), so the time a
clone takes is predictable and `estimated_completion` can be honest.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import speaker
from .analysis import VoiceMeasure, formant_ratio, measure
from .codec import DecodedAudio, resample
from .shape import Shape
from .texts import FIT_TEXT, SCORE_TEXT
from .voices import BuiltinVoice, NeuralProfile, neural_voices

__all__ = ["fit_neural", "FitProgress", "LIMITS"]

#: How far a clone may move from its base: beyond these the voice breaks up.
LIMITS = {"pitch": (0.55, 1.8), "spread": (0.5, 2.0), "formant": (0.85, 1.18), "speed": (0.7, 1.45)}
_RATE = 16_000
#: A voice is in the sample's register when its median pitch is within this factor of the sample's.
REGISTER = 1.5
#: Piper re-synthesizes for each speed; speeds are rounded to this step so renderings are reused.
_SPEED_STEP = 0.04


@dataclass
class _Base:
    voice: BuiltinVoice
    measure: VoiceMeasure
    vector: np.ndarray


@dataclass
class FitProgress:
    """What a fit has done so far (for logs and the benchmarks)."""

    candidates: int = 0
    best: float = -1.0
    base_score: float = -1.0


_bases: dict[str, _Base] = {}
_bases_lock = threading.Lock()


def _bases_measured() -> list[_Base]:
    """Every neural voice reading FIT_TEXT (Praat) and SCORE_TEXT (d-vector), once per process."""
    from .synthesis import synthesize

    with _bases_lock:
        for voice in neural_voices():
            if voice.voice_id not in _bases:
                x, rate = synthesize(FIT_TEXT, voice)
                y, yrate = synthesize(SCORE_TEXT, voice)
                _bases[voice.voice_id] = _Base(voice, measure(resample(x, rate, _RATE), _RATE), speaker.embed(y, yrate))
        return [_bases[v.voice_id] for v in neural_voices()]


def _clip(name: str, value: float) -> float:
    lo, hi = LIMITS[name]
    return float(min(max(value, lo), hi)) if math.isfinite(value) else 1.0


def _measured_shape(ref: VoiceMeasure, base: VoiceMeasure) -> Shape:
    """The shape that moves `base` onto what Praat measured in `ref`."""
    ratio, _ = formant_ratio(ref, base)
    spread = ref.pitch_range_st / base.pitch_range_st if base.pitch_range_st > 0 else 1.0
    speed = ref.syllable_rate / base.syllable_rate if base.syllable_rate > 0 else 1.0
    return Shape(
        pitch=_clip("pitch", ref.pitch_hz / base.pitch_hz),
        spread=_clip("spread", spread),
        formant=_clip("formant", ratio),
        speed=_clip("speed", speed),
    )


class _Scorer:
    """Renders SCORE_TEXT with a base voice and a shape, and scores it against the reference."""

    def __init__(self, base: _Base, reference: np.ndarray) -> None:
        self.base = base
        self.reference = reference
        self._piper_cache: dict[float, np.ndarray] = {}

    def render(self, shape: Shape) -> tuple[np.ndarray, int]:
        engine = self.base.voice.engine
        if engine == "hibari":
            from . import hibari

            return hibari.synth(SCORE_TEXT, shape)
        from . import piper
        from .reshape import reshape

        speed = round(shape.speed / _SPEED_STEP) * _SPEED_STEP
        if speed not in self._piper_cache:
            self._piper_cache[speed], _ = piper.synth(SCORE_TEXT, Shape(speed=speed))
        audio = reshape(self._piper_cache[speed], piper.SAMPLE_RATE, Shape(shape.pitch, shape.spread, shape.formant))
        return audio, piper.SAMPLE_RATE

    def score(self, shape: Shape) -> float:
        audio, rate = self.render(shape)
        return speaker.similarity(self.reference, speaker.embed(audio, rate))


def _around(best: Shape, step: float, rng: np.random.Generator) -> Shape:
    """A random neighbour of `best`: each factor moved by up to `step` in log space (pitch and formant most)."""
    scales = {"pitch": 1.0, "spread": 1.5, "formant": 0.5, "speed": 0.7}
    values = {}
    for name, scale in scales.items():
        moved = getattr(best, name) * math.exp(rng.normal(0.0, step * scale))
        values[name] = _clip(name, moved)
    return Shape(**values)


def fit_neural(
    audio: DecodedAudio,
    budget: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    progress: FitProgress | None = None,
    seed: int = 0,
) -> NeuralProfile:
    """Fit a neural clone of a (checked) sample within `budget` seconds of search (see the module).

    Raises `ProfileError` (from `clone`) when the sample has too little
    voiced speech, and RuntimeError when no neural voice is installed.
    """
    from .clone import ProfileError

    started = clock()
    progress = progress or FitProgress()
    x = audio.samples
    if audio.sample_rate != _RATE:
        x = resample(x, audio.sample_rate, _RATE)
    ref = measure(x, _RATE)
    if not math.isfinite(ref.pitch_hz) or ref.voiced_seconds < 1.0:
        raise ProfileError(
            f"The sample has only {ref.voiced_seconds:.1f} s of voiced speech; a voice cannot be measured from it."
        )
    vector = speaker.embed(x, _RATE)
    bases = _bases_measured()
    if not bases:
        raise RuntimeError("no neural voice is installed to build the clone on")
    def rank(b: _Base) -> tuple[bool, float]:
        outside = abs(math.log(ref.pitch_hz / b.measure.pitch_hz)) > math.log(REGISTER)
        return outside, -speaker.similarity(vector, b.vector)

    bases.sort(key=rank)
    # Only voices in the register compete (all of them when none is): the encoder, asked alone, preferred
    # the male voice pitched up 1.8 times for a female sample, which no listener would (measured).
    bases = [b for b in bases if not rank(b)[0]] or bases
    deadline = started + max(budget, 0.0)

    # The base voices as they are, and each moved by what Praat measured.
    best: tuple[float, _Base, Shape] | None = None
    base_score = -1.0
    scorers = {}
    for base in bases:
        scorer = scorers[base.voice.voice_id] = _Scorer(base, vector)
        plain = speaker.similarity(vector, base.vector)  # SCORE_TEXT as it was measured: no rendering needed
        progress.candidates += 1
        if base is bases[0]:
            base_score = plain
        if best is None or plain > best[0]:
            best = (plain, base, Shape())
        if base is not bases[0] and clock() >= deadline:
            continue  # the nearest voice's measured move is always scored: it decides whether to move at all
        moved = _measured_shape(ref, base.measure)
        got = scorer.score(moved)
        progress.candidates += 1
        if got > best[0]:
            best = (got, base, moved)
    assert best is not None
    progress.base_score = base_score

    # Random local search around the best, on its base voice, until the budget is spent.
    rng = np.random.default_rng(seed)
    step = 0.12
    tries = 0
    while clock() < deadline:
        score, base, shape = best
        candidate = _around(shape, step, rng)
        got = scorers[base.voice.voice_id].score(candidate)
        progress.candidates += 1
        tries += 1
        if got > score:
            best = (got, base, candidate)
        if tries % 12 == 0:
            step = max(step * 0.7, 0.02)
        progress.best = best[0]
    score, base, shape = best
    progress.best = score
    return NeuralProfile(
        base_voice=base.voice.voice_id,
        pitch=shape.pitch,
        spread=shape.spread,
        formant=shape.formant,
        speed=shape.speed,
        base_similarity=round(base_score, 4),
        similarity=round(score, 4),
        candidates=progress.candidates,
        fit_seconds=round(clock() - started, 2),
        budget_seconds=float(budget),
        reference_pitch_hz=round(float(ref.pitch_hz), 1),
    )
