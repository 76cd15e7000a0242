"""Real audio files, made by the tests themselves.

Every test that needs a sample builds it here with PyAV (the `[local]` extra),
so the suite never depends on a file downloaded or checked in. The signals are
deliberately simple and deterministic: a tone, a "voiced" harmonic buzz whose
pitch wanders like speech, white noise and silence. Tests that need real
speech make it with the local engine instead.
"""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np

# container format -> (PyAV container name, codec, sample format)
_ENCODERS: dict[str, tuple[str, str, str]] = {
    "wav": ("wav", "pcm_s16le", "s16"),
    "mp3": ("mp3", "libmp3lame", "s16p"),
    "m4a": ("ipod", "aac", "fltp"),
    "flac": ("flac", "flac", "s16"),
    "ogg": ("ogg", "libopus", "s16"),
}

FORMATS = tuple(_ENCODERS)


def signal(kind: str, seconds: float, sample_rate: int = 16_000, seed: int = 0) -> np.ndarray:
    """A mono float32 signal in [-1, 1] of the given kind."""
    n = int(round(seconds * sample_rate))
    t = np.arange(n, dtype=np.float64) / sample_rate
    rng = np.random.default_rng(seed)
    if kind == "silence":
        out = np.zeros(n)
    elif kind == "tone":
        out = 0.3 * np.sin(2 * np.pi * 220.0 * t)
    elif kind == "noise":
        out = 0.3 * rng.standard_normal(n)
    elif kind == "voiced":
        # A glottal-like harmonic series at a wandering pitch, gated into
        # syllables: closer to speech than a tone, still fully synthetic.
        f0 = 140.0 + 25.0 * np.sin(2 * np.pi * 0.7 * t)
        phase = 2 * np.pi * np.cumsum(f0) / sample_rate
        out = sum((0.5 / k) * np.sin(k * phase) for k in range(1, 12))
        gate = (np.sin(2 * np.pi * 3.0 * t) > -0.3).astype(np.float64)
        out = 0.4 * out * gate
    else:
        raise ValueError(f"unknown signal kind {kind!r}")
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def encode(samples: np.ndarray, fmt: str, sample_rate: int = 16_000) -> bytes:
    """Encode a mono float32 signal into a real file of the given format."""
    container_name, codec, sample_format = _ENCODERS[fmt]
    rate = 48_000 if codec == "libopus" else sample_rate
    if rate != sample_rate:
        # Opus only takes a few rates; a plain linear resample is enough for tests.
        n_out = int(round(len(samples) * rate / sample_rate))
        samples = np.interp(
            np.linspace(0, len(samples) - 1, n_out), np.arange(len(samples)), samples
        ).astype(np.float32)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container_name) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        stream.time_base = Fraction(1, rate)
        frame_size = stream.codec_context.frame_size or 1024
        pcm16 = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
        pts = 0
        for start in range(0, len(pcm16), frame_size):
            chunk = pcm16[start : start + frame_size]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = pts
            frame.time_base = Fraction(1, rate)
            pts += len(chunk)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def make_audio(fmt: str, seconds: float, kind: str = "voiced", sample_rate: int = 16_000) -> bytes:
    """A real `fmt` file holding `seconds` of `kind` signal."""
    return encode(signal(kind, seconds, sample_rate), fmt, sample_rate)



def speech(seconds: float, voice: object = "en-us-male-2", sample_rate: int | None = None, start: int = 0) -> tuple[np.ndarray, int]:
    """Real speech from the local engine, cut to exactly `seconds`.

    Reads the engine's reading passages (from passage `start` on, looping)
    with `voice` (a built-in id, a VoiceProfile or an EspeakVoiceSpec) until
    there is enough, then cuts; returns (float32 mono, sample rate).
    `sample_rate` resamples (e.g. 16000 to make smaller test files).
    """
    from speechgen_jupyter.local.engine import espeak, synthesize, texts
    from speechgen_jupyter.local.engine.codec import resample

    passages = texts.READING_PASSAGES
    parts: list[np.ndarray] = []
    total = 0
    rate = 0
    i = start
    while True:
        text = passages[i % len(passages)]
        if isinstance(voice, espeak.EspeakVoiceSpec):
            x, rate = espeak.synth(text, voice)
        else:
            x, rate = synthesize(text, voice)  # type: ignore[arg-type]
        gap = np.zeros(int(0.25 * rate), np.float32)  # a breath between passages
        parts += [x, gap]
        total += len(x) + len(gap)
        i += 1
        if total >= seconds * rate:
            break
    out = np.concatenate(parts)[: int(round(seconds * rate))]
    if sample_rate is not None and sample_rate != rate:
        out = resample(out, rate, sample_rate)
        out = out[: int(round(seconds * sample_rate))]
        rate = sample_rate
    return out.astype(np.float32), rate


def speech_file(fmt: str, seconds: float, voice: object = "en-us-male-2", sample_rate: int = 16_000) -> bytes:
    """A real `fmt` file of `seconds` of engine speech."""
    x, rate = speech(seconds, voice, sample_rate=sample_rate)
    return encode(x, fmt, rate)


def two_speakers(seconds: float, first: str = "en-us-male-1", second: str = "en-us-female-2", sample_rate: int = 16_000) -> tuple[np.ndarray, int]:
    """Two engine voices taking turns passage by passage, 0.4 s apart, cut to `seconds`."""
    from speechgen_jupyter.local.engine import synthesize, texts
    from speechgen_jupyter.local.engine.codec import resample

    parts: list[np.ndarray] = []
    total = 0.0
    i = 0
    while total < seconds:
        x, rate = synthesize(texts.READING_PASSAGES[i % len(texts.READING_PASSAGES)], first if i % 2 == 0 else second)
        x = resample(x, rate, sample_rate)
        parts += [x, np.zeros(int(0.4 * sample_rate), np.float32)]
        total += (len(x) / sample_rate) + 0.4
        i += 1
    return np.concatenate(parts)[: int(round(seconds * sample_rate))], sample_rate


def with_noise(samples: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """`samples` plus white noise `snr_db` below the speech's active level.

    The level is the mean power of the samples louder than -50 dBFS (the
    speech, not the pauses), so the SNR is the one a listener hears.
    """
    x = np.asarray(samples, dtype=np.float64)
    active = x[np.abs(x) > 10 ** (-50 / 20)]
    level = float(np.mean(active**2)) if active.size else 1e-4
    noise = np.random.default_rng(seed).standard_normal(x.size) * np.sqrt(level / 10 ** (snr_db / 10))
    y = x + noise
    peak = float(np.max(np.abs(y)))
    if peak > 0.95:
        y *= 0.95 / peak
    return y.astype(np.float32)


def music(seconds: float, sample_rate: int = 16_000, seed: int = 0) -> np.ndarray:
    """Something a podcast opens with: a melody of plucked notes over chords, with a drum on every beat.

    Harmonic, rhythmic and loud like music, and not speech (Silero hears none in it).
    """
    n = int(round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    beat = 0.5  # 120 bpm
    scale = 220.0 * 2 ** (np.array([0, 2, 4, 5, 7, 9, 11, 12]) / 12)
    for i, onset in enumerate(np.arange(0.0, seconds, beat)):
        a = int(onset * sample_rate)
        tt = t[a:] - onset
        f = scale[rng.integers(len(scale))]
        note = sum((0.6 / k) * np.sin(2 * np.pi * k * f * tt) for k in range(1, 6)) * np.exp(-tt * 3.0)
        chord = sum(0.15 * np.sin(2 * np.pi * scale[j] / 2 * tt) for j in (0, 2, 4)) * np.exp(-tt * 1.0)
        drum = rng.standard_normal(tt.size) * np.exp(-tt * 40.0) * (0.5 if i % 2 == 0 else 0.25)
        out[a:] += (note + chord + drum)[: n - a]
    out *= 0.5 / max(1e-9, float(np.max(np.abs(out))))
    return out.astype(np.float32)


def stereo_wav(left: np.ndarray, right: np.ndarray, sample_rate: int) -> bytes:
    """A 16-bit stereo PCM WAV from two mono signals (the standard library's writer)."""
    import wave

    pcm = (np.clip(np.stack([left, right], axis=1), -1, 1) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()
