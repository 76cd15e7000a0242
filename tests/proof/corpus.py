"""The bad-input corpus: files and requests a user (or a broken client) may send, each with its verdict.

Every case is a `BadInput`: a name, a group, what to send (a function of a
`Target`, so the corpus is data and the test is one loop), and the 4xx status
and code the server must answer. Files are real: speech from the local
engine, signals encoded with PyAV (tests/media.py), cut, mislabelled or
padded on purpose; they are built once, lazily, when a case first sends them.

`build_corpus()` returns them all; the test asserts there are at least 40 and
that every group the issue names is present.
"""

from __future__ import annotations

import functools
import io
import json
import os
import socket
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from urllib.parse import urlsplit

import httpx
import numpy as np

MAX_AUDIO = 10 * 1024 * 1024
BOUNDARY = "proofcorpusboundary7f3a"
GROUPS = (
    "empty or truncated file",
    "wrong or lying extension",
    "size",
    "duration",
    "content",
    "malformed multipart",
    "giant field",
    "unicode or path-like name or id",
    "bad JSON",
)


@dataclass(frozen=True)
class Target:
    """Where the corpus is sent: an authenticated client, and raw sockets for what httpx would tidy up."""

    api: httpx.Client
    base_url: str
    api_key: str

    def raw(self, head: bytes, body: bytes = b"") -> httpx.Response:
        """Send bytes exactly as written (httpx normalises paths and refuses odd headers); parse the answer."""
        parts = urlsplit(self.base_url)
        with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
            sock.sendall(head + body)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        status_line, _, rest = data.partition(b"\r\n")
        header_block, _, content = rest.partition(b"\r\n\r\n")
        headers = [tuple(h.decode("latin-1").split(":", 1)) for h in header_block.split(b"\r\n") if b":" in h]
        return httpx.Response(int(status_line.split(b" ")[1]), headers=[(k, v.strip()) for k, v in headers], content=content)

    def get_raw(self, target: bytes, method: bytes = b"GET") -> httpx.Response:
        auth = f"Authorization: Bearer {self.api_key}\r\n".encode()
        return self.raw(method + b" " + target + b" HTTP/1.1\r\nHost: x\r\n" + auth + b"Connection: close\r\n\r\n")


@dataclass(frozen=True)
class BadInput:
    name: str
    group: str
    send: Callable[[Target], httpx.Response]
    status: int
    code: str

    def __repr__(self) -> str:
        return f"BadInput({self.name!r})"


# -- real audio, built once ------------------------------------------------------------------


@functools.cache
def speech_pcm(seconds: float, voice: str = "en-us-male-2") -> tuple[np.ndarray, int]:
    from media import speech

    return speech(seconds, voice, sample_rate=16_000)


@functools.cache
def speech_bytes(fmt: str, seconds: float) -> bytes:
    from media import encode

    x, rate = speech_pcm(seconds)
    return encode(x, fmt, rate)


@functools.cache
def signal_bytes(fmt: str, seconds: float, kind: str) -> bytes:
    from media import make_audio

    return make_audio(fmt, seconds, kind)


def music(seconds: float = 15.0, rate: int = 16_000) -> np.ndarray:
    """A music-like signal: a plucked melody over sustained chords and a beat, no voice in it.

    Harmonic notes with a decaying envelope (like a piano or guitar), three-note
    chords held for a bar, and short noise bursts on the beat: the textures a
    song behind a recording adds, which a speech detector must not take for speech.
    """
    t = np.arange(int(seconds * rate)) / rate
    out = np.zeros_like(t)
    scale = [261.63, 293.66, 329.63, 349.23, 392.0, 440.0, 493.88, 523.25]
    melody = [0, 2, 4, 5, 7, 5, 4, 2, 0, 4, 7, 4]
    beat = 0.375
    for i, start in enumerate(np.arange(0.0, seconds, beat)):
        f0 = scale[melody[i % len(melody)] % len(scale)] * 2
        n0, n1 = int(start * rate), min(len(t), int((start + 1.2) * rate))
        tt = t[n0:n1] - start
        note = sum((0.6 / k) * np.sin(2 * np.pi * f0 * k * tt) for k in range(1, 7))
        out[n0:n1] += 0.25 * note * np.exp(-3.5 * tt)
        if i % 2 == 0:  # the beat: a short burst of filtered noise
            m = min(len(t) - n0, int(0.05 * rate))
            burst = np.random.default_rng(i).standard_normal(m) * np.exp(-np.arange(m) / (0.01 * rate))
            out[n0 : n0 + m] += 0.15 * burst
    chords = [(261.63, 329.63, 392.0), (220.0, 261.63, 329.63), (174.61, 220.0, 261.63), (196.0, 246.94, 293.66)]
    bar = 4 * beat * 2
    for j, start in enumerate(np.arange(0.0, seconds, bar)):
        n0, n1 = int(start * rate), min(len(t), int((start + bar) * rate))
        tt = t[n0:n1] - start
        out[n0:n1] += sum(0.08 * np.sin(2 * np.pi * f * tt) for f in chords[j % len(chords)])
    return np.clip(out / max(1e-9, np.abs(out).max()) * 0.7, -1, 1).astype(np.float32)


@functools.cache
def music_bytes() -> bytes:
    from media import encode

    return encode(music(), "mp3", 16_000)


@functools.cache
def two_speakers_bytes() -> bytes:
    from media import encode, two_speakers

    x, rate = two_speakers(24.0)
    return encode(x, "wav", rate)


@functools.cache
def noisy_speech_bytes() -> bytes:
    from media import encode, with_noise

    x, rate = speech_pcm(14.0)
    return encode(with_noise(x, 0.0), "wav", rate)


@functools.cache
def aiff_bytes() -> bytes:
    """Real speech in a container Speechgen does not take (AIFF), to be sent under an .mp3 name."""
    import av

    x, rate = speech_pcm(12.0)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="aiff") as container:
        stream = container.add_stream("pcm_s16be", rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray((x * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def png_bytes() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(range(48)) for _ in range(16))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("voice.mp3", speech_bytes("mp3", 12.0))
    return buf.getvalue()


# -- how things are sent ---------------------------------------------------------------------


def upload(audio: Callable[[], bytes], filename: str | None, name: str = "Corpus voice", **fields: str) -> Callable[[Target], httpx.Response]:
    def send(t: Target) -> httpx.Response:
        return t.api.post("/v1/voice-clone", files={"audio": (filename, audio(), "application/octet-stream")},
                          data={"name": name, **fields})

    return send


def part(name: str, value: bytes, filename: str | None = None, extra: str = "") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{extra}\r\n".encode() + value + b"\r\n"


END = f"--{BOUNDARY}--\r\n".encode()


def multipart(body: Callable[[], bytes], content_type: str | None = None, headers: dict[str, str | bytes] | None = None) -> Callable[[Target], httpx.Response]:
    def send(t: Target) -> httpx.Response:
        h = [("Content-Type", content_type or f"multipart/form-data; boundary={BOUNDARY}"), *(headers or {}).items()]
        raw = [(k.encode(), v if isinstance(v, bytes) else v.encode()) for k, v in h]
        return t.api.post("/v1/voice-clone", content=body(), headers=raw)

    return send


def good_form(*extra_parts: bytes, audio: bool = True, name: bytes | None = b"Corpus voice") -> bytes:
    """A well-formed form around the real 12 s sample, plus `extra_parts`."""
    body = b""
    if name is not None:
        body += part("name", name)
    if audio:
        body += part("audio", speech_bytes("mp3", 12.0), "sample.mp3")
    return body + b"".join(extra_parts) + END


def tts(body: Callable[[], bytes] | dict, content_type: str = "application/json") -> Callable[[Target], httpx.Response]:
    def send(t: Target) -> httpx.Response:
        content = json.dumps(body).encode() if isinstance(body, dict) else body()
        return t.api.post("/v1/text-to-speech", content=content, headers={"Content-Type": content_type})

    return send


def get(path: str, **params: str) -> Callable[[Target], httpx.Response]:
    return lambda t: t.api.get(path, params=params or None)


def raw_get(target: bytes, method: bytes = b"GET") -> Callable[[Target], httpx.Response]:
    return lambda t: t.get_raw(target, method)


def declared_oversize(t: Target) -> httpx.Response:
    """Headers alone, declaring 10 MB + 1 byte of audio plus the form: refused before any body is sent."""
    length = MAX_AUDIO + 1 + 64 * 1024 + 1
    head = (
        "POST /v1/voice-clone HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {t.api_key}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    return t.raw(head.encode())


# -- the corpus --------------------------------------------------------------------------------


def build_corpus() -> list[BadInput]:
    """Every case; cheap to call (files are built when first sent)."""
    sp = functools.partial(speech_bytes, "mp3", 12.0)
    wav12 = functools.partial(speech_bytes, "wav", 12.0)
    voice = "en-us-male-1"
    cases = [
        # empty or truncated files
        BadInput("zero-byte mp3", GROUPS[0], upload(lambda: b"", "empty.mp3"), 400, "empty_file"),
        BadInput("zero-byte file with no name", GROUPS[0], upload(lambda: b"", None), 400, "empty_file"),
        BadInput("wav cut inside its header", GROUPS[0], upload(lambda: wav12()[:40], "cut.wav"), 422, "unreadable_audio"),
        BadInput("flac cut inside its header", GROUPS[0], upload(lambda: speech_bytes("flac", 12.0)[:60], "cut.flac"), 422, "unreadable_audio"),
        BadInput("ogg cut inside its first page", GROUPS[0], upload(lambda: speech_bytes("ogg", 12.0)[:50], "cut.ogg"), 422, "unreadable_audio"),
        BadInput("m4a cut before its sample table", GROUPS[0], upload(lambda: speech_bytes("m4a", 12.0)[:1000], "cut.m4a"), 422, "unreadable_audio"),
        BadInput("mp3 cut to its first 6 s", GROUPS[0], upload(lambda: sp()[: len(sp()) // 2], "half.mp3"), 422, "audio_too_short"),
        BadInput("wav cut to its first 5 s", GROUPS[0], upload(lambda: wav12()[: 44 + 16_000 * 2 * 5], "half.wav"), 422, "audio_too_short"),
        # wrong and lying extensions
        BadInput("text named .mp3", GROUPS[1], upload(lambda: b"This is a text file, not audio.\n" * 50, "voice.mp3"), 415, "unsupported_audio_format"),
        BadInput("PNG image named .wav", GROUPS[1], upload(png_bytes, "voice.wav"), 415, "unsupported_audio_format"),
        BadInput("PDF named .flac", GROUPS[1], upload(lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + os.urandom(3000), "voice.flac"), 415, "unsupported_audio_format"),
        BadInput("ZIP of an mp3, named .m4a", GROUPS[1], upload(zip_bytes, "voice.m4a"), 415, "unsupported_audio_format"),
        BadInput("AIFF speech named .mp3", GROUPS[1], upload(aiff_bytes, "voice.mp3"), 415, "unsupported_audio_format"),
        BadInput("random bytes named .ogg", GROUPS[1], upload(lambda: np.random.default_rng(7).bytes(20_000), "voice.ogg"), 415, "unsupported_audio_format"),
        BadInput("HTML error page named .mp3", GROUPS[1], upload(lambda: b"<!doctype html><html><body>404 Not Found</body></html>", "download.mp3"), 415, "unsupported_audio_format"),
        # size
        BadInput("exactly 10 MB + 1 byte", GROUPS[2], upload(lambda: b"\x00" * (MAX_AUDIO + 1), "big.wav"), 413, "file_too_large"),
        BadInput("real WAV speech padded to 10 MB + 1 byte", GROUPS[2], upload(lambda: wav12() + b"\x00" * (MAX_AUDIO + 1 - len(wav12())), "padded.wav"), 413, "file_too_large"),
        BadInput("Content-Length of 10 MB + 1 byte, no body", GROUPS[2], declared_oversize, 413, "file_too_large"),
        # duration
        BadInput("9.9 s of speech", GROUPS[3], upload(lambda: speech_bytes("wav", 9.9), "short.wav"), 422, "audio_too_short"),
        BadInput("5 min + 1 s of audio", GROUPS[3], upload(lambda: signal_bytes("wav", 301.0, "voiced"), "long.wav"), 422, "audio_too_long"),
        BadInput("1 s of speech as mp3", GROUPS[3], upload(lambda: speech_bytes("mp3", 1.0), "blip.mp3"), 422, "audio_too_short"),
        # content
        BadInput("12 s of silence", GROUPS[4], upload(lambda: signal_bytes("wav", 12.0, "silence"), "silence.wav"), 422, "no_speech"),
        BadInput("12 s of white noise", GROUPS[4], upload(lambda: signal_bytes("mp3", 12.0, "noise"), "noise.mp3"), 422, "no_speech"),
        BadInput("15 s of music", GROUPS[4], upload(music_bytes, "song.mp3"), 422, "no_speech"),
        BadInput("12 s of a pure tone", GROUPS[4], upload(lambda: signal_bytes("flac", 12.0, "tone"), "tone.flac"), 422, "no_speech"),
        BadInput("two speakers taking turns", GROUPS[4], upload(two_speakers_bytes, "dialogue.wav"), 422, "multiple_speakers"),
        BadInput("speech under noise at 0 dB", GROUPS[4], upload(noisy_speech_bytes, "noisy.wav"), 422, "too_noisy"),
        # malformed multipart
        BadInput("multipart without a boundary", GROUPS[5], multipart(lambda: good_form(), "multipart/form-data"), 400, "malformed_multipart"),
        BadInput("body under another boundary", GROUPS[5], multipart(lambda: good_form().replace(BOUNDARY.encode(), b"otherboundary")), 400, "malformed_multipart"),
        BadInput("form cut before its closing boundary", GROUPS[5], multipart(lambda: good_form()[:-len(END) - 100]), 400, "malformed_multipart"),
        BadInput("part without Content-Disposition", GROUPS[5], multipart(lambda: f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n".encode() + good_form()), 400, "malformed_multipart"),
        BadInput("two audio parts", GROUPS[5], multipart(lambda: good_form(part("audio", b"second", "b.mp3"))), 400, "duplicate_field"),
        BadInput("17 parts", GROUPS[5], multipart(lambda: good_form(*(part(f"extra{i}", b"v") for i in range(15)))), 400, "too_many_parts"),
        BadInput("a part header over 8 KB", GROUPS[5], multipart(lambda: good_form(part("note", b"v", extra="X-Pad: " + "p" * 9000 + "\r\n"))), 400, "malformed_multipart"),
        BadInput("JSON sent to voice-clone", GROUPS[5], multipart(lambda: b'{"name": "x", "audio": "..."}', "application/json"), 400, "expected_multipart"),
        BadInput("form with no audio part", GROUPS[5], multipart(lambda: good_form(audio=False)), 400, "missing_audio"),
        BadInput("form with no name part", GROUPS[5], multipart(lambda: good_form(name=None)), 400, "missing_name"),
        BadInput("blank name", GROUPS[5], upload(sp, "sample.mp3", name="   "), 400, "missing_name"),
        BadInput("empty body", GROUPS[5], multipart(lambda: b""), 400, "malformed_multipart"),
        # giant fields
        BadInput("name of 201 characters", GROUPS[6], upload(sp, "sample.mp3", name="n" * 201), 400, "name_too_long"),
        BadInput("name of 20 KB", GROUPS[6], multipart(lambda: good_form(name=b"n" * 20_000)), 400, "field_too_long"),
        BadInput("description of 2001 characters", GROUPS[6], upload(sp, "sample.mp3", description="d" * 2001), 400, "description_too_long"),
        BadInput("description of 1 MB", GROUPS[6], multipart(lambda: good_form(part("description", b"d" * (1024 * 1024)))), 400, "field_too_long"),
        BadInput("enhance_quality of 'maybe'", GROUPS[6], upload(sp, "sample.mp3", enhance_quality="maybe"), 400, "invalid_enhance_quality"),
        BadInput("Idempotency-Key of 256 characters", GROUPS[6], multipart(lambda: good_form(), headers={"Idempotency-Key": "k" * 256}), 400, "invalid_idempotency_key"),
        BadInput("text of 5001 characters", GROUPS[6], tts({"text": "a" * 5001, "voice": voice}), 400, "text_too_long"),
        BadInput("JSON body of 70 KB", GROUPS[6], tts({"text": "hello", "voice": voice, "pad": "p" * 70_000}), 400, "body_too_large"),
        # unicode and path-like names and ids
        BadInput("name with a NUL byte", GROUPS[7], upload(sp, "sample.mp3", name="nul\x00name"), 400, "invalid_name"),
        BadInput("name with a newline", GROUPS[7], upload(sp, "sample.mp3", name="two\nlines"), 400, "invalid_name"),
        BadInput("name with a right-to-left override and a bell", GROUPS[7], upload(sp, "sample.mp3", name="\u202evoice\x07"), 400, "invalid_name"),
        BadInput("name that is not UTF-8", GROUPS[7], multipart(lambda: good_form(name=b"caf\xe9 latin-1")), 400, "invalid_encoding"),
        BadInput("description with a bell", GROUPS[7], upload(sp, "sample.mp3", description="ding\x07"), 400, "invalid_description"),
        BadInput("Idempotency-Key with non-ASCII", GROUPS[7], multipart(lambda: good_form(), headers={"Idempotency-Key": "cl\u00e9".encode("latin-1")}), 400, "invalid_idempotency_key"),
        BadInput("path-like filename on a text file", GROUPS[7], upload(lambda: b"not audio at all, just words\n" * 20, "../../../../etc/cron.d/x.mp3"), 415, "unsupported_audio_format"),
        BadInput("GET model ../../etc/passwd", GROUPS[7], raw_get(b"/v1/models/../../etc/passwd"), 404, "not_found"),
        BadInput("GET model ..%2f..%2fspeechgen-local.sqlite3", GROUPS[7], raw_get(b"/v1/models/..%2f..%2fspeechgen-local.sqlite3"), 404, "not_found"),
        BadInput("DELETE model with a unicode id", GROUPS[7], raw_get(b"/v1/models/vm_%E5%90%8D%E5%89%8D", b"DELETE"), 404, "model_not_found"),
        BadInput("GET model id with a NUL byte", GROUPS[7], raw_get(b"/v1/models/vm_abc%00.audio"), 404, "model_not_found"),
        BadInput("voice id ../../etc/passwd", GROUPS[7], tts({"text": "hello", "voice": "../../etc/passwd"}), 404, "voice_not_found"),
        BadInput("voice id custom-名前", GROUPS[7], tts({"text": "hello", "voice": "custom-名前"}), 404, "voice_not_found"),
        BadInput("cursor ../../x", GROUPS[7], get("/v1/models", cursor="../../x"), 400, "invalid_cursor"),
        BadInput("limit of -1", GROUPS[7], get("/v1/models", limit="-1"), 400, "invalid_limit"),
        BadInput("limit of ²", GROUPS[7], get("/v1/models", limit="²"), 400, "invalid_limit"),
        # bad JSON
        BadInput("JSON cut off", GROUPS[8], tts(lambda: b'{"text": "hello", "voi'), 400, "invalid_json"),
        BadInput("empty JSON body", GROUPS[8], tts(lambda: b""), 400, "invalid_json"),
        BadInput("JSON array instead of object", GROUPS[8], tts(lambda: b'["hello", "en-us-male-1"]'), 400, "invalid_body"),
        BadInput("JSON null", GROUPS[8], tts(lambda: b"null"), 400, "invalid_body"),
        BadInput("JSON that is not UTF-8", GROUPS[8], tts(lambda: '{"text": "héllo", "voice": "en-us-male-1"}'.encode("latin-1")), 400, "invalid_json"),
        BadInput("JSON nested 30,000 deep", GROUPS[8], tts(lambda: b"[" * 30_000 + b"]" * 30_000), 400, "invalid_json"),
        BadInput("text that is a number", GROUPS[8], tts({"text": 42, "voice": voice}), 400, "missing_text"),
        BadInput("text that is NaN", GROUPS[8], tts(lambda: b'{"text": NaN, "voice": "en-us-male-1"}'), 400, "missing_text"),
        BadInput("text of only spaces", GROUPS[8], tts({"text": "   \n\t", "voice": voice}), 400, "empty_text"),
        BadInput("no voice", GROUPS[8], tts({"text": "hello"}), 400, "missing_voice"),
        BadInput("format exe", GROUPS[8], tts({"text": "hello", "voice": voice, "format": "exe"}), 400, "unsupported_output_format"),
        BadInput("text that is a 5,000-digit number", GROUPS[8], tts(lambda: b'{"text": ' + b"7" * 5000 + b', "voice": "en-us-male-1"}'), 400, "invalid_json"),
        BadInput("fault seed of 5,000 digits", GROUPS[8], lambda t: t.api.put("/_admin/faults", content=b'{"rate": 0.5, "seed": ' + b"1" * 5000 + b"}", headers={"Content-Type": "application/json"}), 400, "invalid_json"),
        BadInput("text with an unpaired surrogate", GROUPS[8], tts(lambda: b'{"text": "hi \\ud800", "voice": "en-us-male-1"}'), 400, "invalid_json"),
        BadInput("fault settings with rate 2", GROUPS[8], lambda t: t.api.put("/_admin/faults", json={"rate": 2}), 400, "invalid_faults"),
        BadInput("transition 'sideways'", GROUPS[8], lambda t: t.api.put("/_admin/transition", json={"progression": "sideways"}), 400, "invalid_transition"),
    ]
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names are unique"
    return cases
