"""Text to speech with a built-in or cloned voice."""

from __future__ import annotations

import numpy as np

from . import espeak
from .voices import BuiltinVoice, VoiceProfile, get_builtin_voice

__all__ = ["synthesize", "resolve_voice"]


def resolve_voice(voice: BuiltinVoice | VoiceProfile | str) -> BuiltinVoice | VoiceProfile:
    """A voice object from a voice or a built-in voice id (KeyError if unknown)."""
    if isinstance(voice, (BuiltinVoice, VoiceProfile)):
        return voice
    if isinstance(voice, str):
        found = get_builtin_voice(voice)
        if found is None:
            raise KeyError(voice)
        return found
    raise TypeError(f"voice must be a BuiltinVoice, a VoiceProfile or a voice id, not {type(voice).__name__}")


def synthesize(text: str, voice: BuiltinVoice | VoiceProfile | str) -> tuple[np.ndarray, int]:
    """Speak `text`: (float32 mono samples in [-1, 1], sample rate).

    `voice` is a built-in voice, a cloned voice's profile, or a built-in
    voice id (KeyError for an unknown id). Thread-safe: espeak runs under a
    process-wide lock (it is ~0.002 x real time, so the lock is never the
    bottleneck). ValueError for text with nothing to say.
    """
    resolved = resolve_voice(voice)
    if not text or not text.strip():
        raise ValueError("text is empty")
    samples, rate = espeak.synth(text.strip(), resolved.spec())
    return samples, rate
