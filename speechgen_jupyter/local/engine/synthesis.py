"""Text to speech with a built-in or cloned voice, whole or sentence by sentence.

One entry point for every engine: a built-in voice says which engine speaks
it (espeak, hibari, piper); an espeak clone is a `VoiceProfile`; a neural
clone a `NeuralProfile` (its base voice's engine, moved by its `Shape`).
`stream` yields one array per sentence for the neural engines, so a long
text starts playing after its first sentence; espeak (~0.002 x real time)
speaks it whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Union

import numpy as np

from . import espeak
from .shape import Shape
from .voices import BuiltinVoice, NeuralProfile, VoiceProfile, get_builtin_voice

__all__ = ["synthesize", "stream", "resolve_voice", "sample_rate", "Voice"]

Voice = Union[BuiltinVoice, VoiceProfile, NeuralProfile]


def resolve_voice(voice: Voice | str) -> Voice:
    """A voice object from a voice or a built-in voice id (KeyError if unknown)."""
    if isinstance(voice, (BuiltinVoice, VoiceProfile, NeuralProfile)):
        return voice
    if isinstance(voice, str):
        found = get_builtin_voice(voice)
        if found is None:
            raise KeyError(voice)
        return found
    raise TypeError(f"voice must be a BuiltinVoice, a voice profile or a voice id, not {type(voice).__name__}")


def _neural(voice: Voice) -> tuple[str, Shape] | None:
    """(engine, shape) for a neural voice or clone; None for espeak."""
    if isinstance(voice, NeuralProfile):
        return voice.base().engine, voice.shape()
    if isinstance(voice, BuiltinVoice) and voice.neural:
        return voice.engine, Shape()
    return None


def sample_rate(voice: Voice | str) -> int:
    """The rate `voice` speaks at (24 kHz hibari, 22.05 kHz Piper and espeak)."""
    neural = _neural(resolve_voice(voice))
    if neural is None:
        return espeak.sample_rate()
    if neural[0] == "hibari":
        from . import hibari

        return hibari.SAMPLE_RATE
    from . import piper

    return piper.SAMPLE_RATE


def stream(text: str, voice: Voice | str) -> Iterator[np.ndarray]:
    """float32 mono in [-1, 1] at `sample_rate(voice)`, one array per sentence (espeak: one for all).

    ValueError for text with nothing to say, raised before the first array.
    """
    resolved = resolve_voice(voice)
    if not text or not text.strip():
        raise ValueError("text is empty")
    text = text.strip()
    neural = _neural(resolved)
    if neural is None:
        samples, _ = espeak.synth(text, resolved.spec())  # type: ignore[union-attr]
        if not samples.size:
            raise ValueError("nothing to say")
        yield samples
        return
    engine, shape = neural
    if engine == "hibari":
        from . import hibari

        parts = hibari.stream(text, shape)
    else:
        from . import piper

        parts = piper.stream(text, shape)
    first = True
    for part in parts:
        first = False
        yield part
    if first:
        raise ValueError("nothing to say")


def synthesize(text: str, voice: Voice | str) -> tuple[np.ndarray, int]:
    """Speak `text`: (float32 mono samples in [-1, 1], sample rate).

    `voice` is a built-in voice, a cloned voice's profile, or a built-in
    voice id (KeyError for an unknown id). Thread-safe: espeak runs under a
    process-wide lock; the neural engines share one bounded onnxruntime
    session each (see `onnx`). ValueError for text with nothing to say.
    """
    resolved = resolve_voice(voice)
    parts = list(stream(text, resolved))
    samples = parts[0] if len(parts) == 1 else np.concatenate(parts).astype(np.float32, copy=False)
    return samples, sample_rate(resolved)
