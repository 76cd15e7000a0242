"""The built-in voices and what a cloned voice is (`VoiceProfile`).

Built-in voices are espeak-ng language files paired with variants, chosen to
sound clearly different from each other: male and female, deeper and
brighter, American and British. Their ids are stable API surface (clients
store them), so never rename one; add new ones instead.

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
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .espeak import EspeakVoiceSpec

__all__ = ["BuiltinVoice", "VoiceProfile", "builtin_voices", "get_builtin_voice", "DEFAULT_VOICE_ID"]

DEFAULT_RATE_WPM = 175.0


@dataclass(frozen=True)
class BuiltinVoice:
    """A voice that ships with the engine.

    `language` is the API's language code ("en"); `accent` the regional
    variety ("en-US", "en-GB"); `gender` "male" or "female".
    `espeak_language` / `espeak_variant` say which espeak-ng files make it.
    """

    voice_id: str
    name: str
    language: str
    accent: str
    gender: str
    espeak_language: str
    espeak_variant: str
    rate_wpm: float = DEFAULT_RATE_WPM

    def spec(self) -> EspeakVoiceSpec:
        return EspeakVoiceSpec(language=self.espeak_language, variant=self.espeak_variant, rate_wpm=self.rate_wpm)


_BUILTINS: tuple[BuiltinVoice, ...] = (
    BuiltinVoice("en-us-male-1", "US English male 1 (deep)", "en", "en-US", "male", "gmw/en-US", "m1"),
    BuiltinVoice("en-us-male-2", "US English male 2", "en", "en-US", "male", "gmw/en-US", "m3"),
    BuiltinVoice("en-us-male-3", "US English male 3 (lively)", "en", "en-US", "male", "gmw/en-US", "m7"),
    BuiltinVoice("en-us-female-1", "US English female 1", "en", "en-US", "female", "gmw/en-US", "f1"),
    BuiltinVoice("en-us-female-2", "US English female 2 (bright)", "en", "en-US", "female", "gmw/en-US", "f3"),
    BuiltinVoice("en-us-female-3", "US English female 3 (light)", "en", "en-US", "female", "gmw/en-US", "f4"),
    BuiltinVoice("en-gb-male-1", "British English male 1", "en", "en-GB", "male", "gmw/en-GB-x-rp", "m2"),
    BuiltinVoice("en-gb-female-1", "British English female 1", "en", "en-GB", "female", "gmw/en-GB-x-rp", "f2"),
)
_BY_ID = {v.voice_id: v for v in _BUILTINS}

DEFAULT_VOICE_ID = "en-us-female-1"


def builtin_voices() -> list[BuiltinVoice]:
    """Every built-in voice, in a stable order."""
    return list(_BUILTINS)


def get_builtin_voice(voice_id: str) -> BuiltinVoice | None:
    """The built-in voice with this id, or None."""
    return _BY_ID.get(voice_id)


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
