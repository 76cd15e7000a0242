"""Speak text longer than one request takes, as one clip.

Speechgen takes at most `MAX_TEXT_CHARS` characters per text-to-speech
request, but a notebook user pastes a chapter. So the text is split at
sentence boundaries (never mid-word unless one "sentence" is longer than a
request), each part is spoken in order, and the parts are joined into one
clip that plays, saves and reports its duration like any other.

How the clips are joined, per format (why each way):

* **wav**: each part is PCM in a RIFF file, so the samples are concatenated
  under one new header. Exact: the duration is the sum of the parts.
* **mp3**: MP3 is a sequence of self-contained frames, so the frames of every
  part are concatenated, after dropping each part's ID3 tags and its
  Xing/Info frame (a silent metadata frame whose frame count would describe
  only the first part). No re-encoding, no extra dependency. Each part keeps
  its encoder delay and padding (~0.05 s of silence at the sentence break,
  inaudible); the joined file has no Xing header, which is exact for the CBR
  MP3 that text-to-speech services return.
* **ogg / flac**: their streams carry running sample positions and cannot be
  glued byte-wise, so each part is requested as WAV, the PCM is joined, and
  the result is encoded once with PyAV (`pip install 'speechgen_jupyter[local]'`).
  Without PyAV a long OGG/FLAC text is refused with that advice; short texts
  (one request) never need it.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import _constants as C
from .errors import ConfigurationError, InvalidInputError, SpeechgenError
from .types import Speech

if TYPE_CHECKING:  # pragma: no cover
    from ._speakers import AsyncSpeaker, SyncSpeaker

__all__ = ["split_text", "split_sentences", "join_speech", "finish_parts", "LongText", "speak_long", "aspeak_long"]

# A sentence ends at . ! ? … (or their CJK forms), optionally followed by
# closing quotes/brackets, then whitespace; a blank line ends one too.
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])[\"'”’)\]]*\s+|\n\s*\n")
# Where to cut a sentence that is itself too long: after clause punctuation.
_CLAUSE_END = re.compile(r"(?<=[,;:—–、，；：])\s+")
# "Dr. Smith" is one sentence; a cut there would make the voice pause oddly.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e no fig approx dept inc ltd co mt ft".split()
)


# --------------------------------------------------------------------------- splitting


def split_text(text: str, max_chars: int = C.MAX_TEXT_CHARS) -> list[str]:
    """Cut `text` into chunks of at most `max_chars`, at sentence boundaries.

    Sentences are packed greedily so there are as few requests as possible.
    A sentence longer than `max_chars` is cut after clause punctuation, then
    between words, and only as a last resort inside a word. Joining the
    chunks with spaces gives back the text's words in order.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    text = text.strip()
    if not text:
        return []
    if len(text) <= max_chars:
        return [text]
    return _pack(split_sentences(text, max_chars), max_chars)


def split_sentences(text: str, max_chars: int = C.MAX_TEXT_CHARS) -> list[str]:
    """The sentences of `text` in order, each cut (at clauses, then words) to at most `max_chars`.

    The pieces `split_text` packs into requests; the streaming plan packs
    them differently (short first, then growing).
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    return [piece for sentence in _sentences(text.strip()) for piece in _fit(sentence, max_chars)]


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start : match.start()].strip()
        if candidate.endswith(".") and _ends_with_abbreviation(candidate) and "\n" not in match.group():
            continue  # keep "Dr. Smith" together: extend to the next boundary
        if candidate:
            out.append(candidate)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def _ends_with_abbreviation(sentence: str) -> bool:
    last = sentence.rsplit(None, 1)[-1].rstrip(".").lower()
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def _fit(sentence: str, max_chars: int) -> list[str]:
    """One sentence as pieces of at most max_chars (usually just itself)."""
    if len(sentence) <= max_chars:
        return [sentence]
    clauses = [c for c in _CLAUSE_END.split(sentence) if c]
    if len(clauses) > 1:
        return [p for clause in clauses for p in _fit(clause, max_chars)]
    words = sentence.split()
    if len(words) > 1:
        return _pack([p for w in words for p in _fit(w, max_chars)], max_chars)
    return [sentence[i : i + max_chars] for i in range(0, len(sentence), max_chars)]


def _pack(pieces: Sequence[str], max_chars: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if not current:
            current = piece
        elif len(current) + 1 + len(piece) <= max_chars:
            current = f"{current} {piece}"
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


# --------------------------------------------------------------------------- joining


def join_speech(parts: Sequence[Speech], *, text: str | None = None, voice: str | None = None) -> Speech:
    """Join clips of one format (wav or mp3) into one clip, in order."""
    if not parts:
        raise ValueError("nothing to join")
    formats = {p.format for p in parts}
    if len(formats) != 1:
        raise InvalidInputError(f"Cannot join clips of different formats: {', '.join(sorted(formats))}.")
    fmt = parts[0].format
    text = text if text is not None else " ".join(p.text or "" for p in parts).strip() or None
    voice = voice if voice is not None else parts[0].voice
    if len(parts) == 1:
        return Speech(parts[0].data, fmt, text=text, voice=voice)
    if fmt == "wav":
        return Speech(_join_wav([p.data for p in parts]), "wav", text=text, voice=voice)
    if fmt == "mp3":
        return Speech(_join_mp3([p.data for p in parts]), "mp3", text=text, voice=voice)
    raise InvalidInputError(f"{fmt.upper()} clips cannot be joined byte-wise; speak the parts as WAV and encode once.")


@dataclass(frozen=True)
class _Wav:
    fmt: bytes  # the body of the 'fmt ' chunk
    pcm: bytes


def _read_wav(data: bytes) -> _Wav:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SpeechgenError("A part of the long text did not come back as a WAV file; cannot join it.")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if cid == b"fmt ":
            fmt = data[body : body + size]
        elif cid == b"data":
            if fmt is None:
                break
            end = len(data) if size in (0, 0xFFFFFFFF) or body + size > len(data) else body + size
            return _Wav(fmt, data[body:end])
        pos = body + size + (size & 1)
    raise SpeechgenError("A WAV part of the long text has no 'fmt ' or 'data' chunk; cannot join it.")


def _wav_params(fmt: bytes) -> tuple[int, int, int, int]:
    """(format tag, channels, sample rate, block align) from a 'fmt ' body."""
    tag, channels, rate, _byte_rate, block_align = struct.unpack_from("<HHIIH", fmt)
    return tag, channels, rate, block_align


def _join_wav(files: Sequence[bytes]) -> bytes:
    wavs = [_read_wav(f) for f in files]
    first = _wav_params(wavs[0].fmt)
    for w in wavs[1:]:
        if _wav_params(w.fmt)[1:] != first[1:]:
            raise SpeechgenError("The WAV parts of the long text differ in channels or sample rate; cannot join them.")
    align = first[3] or 1
    # Drop any partial frame at a part's end so the next part stays aligned.
    pcm = b"".join(w.pcm[: len(w.pcm) - len(w.pcm) % align] for w in wavs)
    return _wav_file(wavs[0].fmt, pcm)


def _wav_file(fmt: bytes, pcm: bytes) -> bytes:
    fmt_chunk = b"fmt " + struct.pack("<I", len(fmt)) + fmt + (b"\0" if len(fmt) & 1 else b"")
    data_chunk = b"data" + struct.pack("<I", len(pcm)) + pcm + (b"\0" if len(pcm) & 1 else b"")
    return b"RIFF" + struct.pack("<I", 4 + len(fmt_chunk) + len(data_chunk)) + b"WAVE" + fmt_chunk + data_chunk


def _skip_id3v2(data: bytes) -> int:
    pos = 0
    while data[pos : pos + 3] == b"ID3" and pos + 10 <= len(data):
        size_bytes = data[pos + 6 : pos + 10]
        if any(b & 0x80 for b in size_bytes):
            break
        size = (size_bytes[0] << 21) | (size_bytes[1] << 14) | (size_bytes[2] << 7) | size_bytes[3]
        pos += 10 + size + (10 if data[pos + 5] & 0x10 else 0)
    return pos


def _mp3_header(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(version bits, sample-rate index, channel mode) of a Layer III header at pos, or None."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    version, layer = (data[pos + 1] >> 3) & 3, (data[pos + 1] >> 1) & 3
    bitrate, rate = data[pos + 2] >> 4, (data[pos + 2] >> 2) & 3
    if version == 1 or layer != 1 or bitrate in (0, 15) or rate == 3:
        return None
    return version, rate, data[pos + 3] >> 6


def _mp3_frames(data: bytes) -> tuple[bytes, tuple[int, int, int]]:
    """The audio frames of one MP3 file (tags and the Xing/Info frame removed)."""
    start = _skip_id3v2(data)
    # The first frame header: a valid header whose successor is a valid header too.
    pos = data.find(b"\xff", start)
    while pos >= 0:
        header = _mp3_header(data, pos)
        if header is not None:
            length = _mp3_frame_length(data, pos)
            if length and (pos + length >= len(data) or _mp3_header(data, pos + length) == header):
                break
        pos = data.find(b"\xff", pos + 1)
    if pos < 0 or header is None:
        raise SpeechgenError("A part of the long text did not come back as MP3 audio; cannot join it.")
    end = len(data)
    if end - 128 >= pos and data[end - 128 : end - 125] == b"TAG":
        end -= 128  # ID3v1 trailer
    length = _mp3_frame_length(data, pos)
    version, _rate, mode = header
    side = (32 if mode != 3 else 17) if version == 3 else (17 if mode != 3 else 9)
    if data[pos + 4 + side : pos + 8 + side] in (b"Xing", b"Info") or data[pos + 36 : pos + 40] == b"VBRI":
        pos += length
    return data[pos:end], header


_MP3_KBPS = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1 Layer III
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2 / 2.5 Layer III
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frame_length(data: bytes, pos: int) -> int:
    version = (data[pos + 1] >> 3) & 3
    kbps = _MP3_KBPS[3 if version == 3 else 2][data[pos + 2] >> 4]
    rate = _MP3_RATES[version][(data[pos + 2] >> 2) & 3]
    padding = (data[pos + 2] >> 1) & 1
    return (144000 if version == 3 else 72000) * kbps // rate + padding


def _join_mp3(files: Sequence[bytes]) -> bytes:
    frames = [_mp3_frames(f) for f in files]
    first = frames[0][1]
    if any(h != first for _, h in frames[1:]):
        raise SpeechgenError(
            "The MP3 parts of the long text differ in sample rate or channels; ask for format='wav' to join them."
        )
    return b"".join(f for f, _ in frames)


def _encode_wav_as(wav: bytes, fmt: str) -> bytes:
    """Re-encode a WAV file as OGG (Opus) or FLAC with PyAV, once, for a joined clip."""
    try:
        import av
    except ImportError as err:
        raise ConfigurationError(
            f"Joining a long text into one {fmt.upper()} clip needs PyAV (pip install 'speechgen_jupyter[local]'). "
            f"Or ask for format 'mp3' or 'wav', which join without it."
        ) from err
    codec, rates, bit_rate = {"ogg": ("libopus", (48000, 24000, 16000, 12000, 8000), 48_000), "flac": ("flac", None, None)}[fmt]
    out = io.BytesIO()
    source: Any
    target: Any
    with av.open(io.BytesIO(wav)) as source, av.open(out, mode="w", format=fmt) as target:
        src = source.streams.audio[0]
        rate = src.codec_context.sample_rate
        if rates is not None and rate not in rates:
            rate = min((r for r in rates if r >= rate), default=rates[0])
        stream: Any = target.add_stream(codec, rate=rate)
        stream.layout = src.codec_context.layout.name
        if bit_rate:
            stream.bit_rate = bit_rate
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=stream.layout, rate=rate)
        frame_size = stream.codec_context.frame_size or 0
        fifo = av.AudioFifo() if frame_size else None

        def emit(frames: list[Any]) -> None:
            for frame in frames:
                if fifo is None:
                    for packet in stream.encode(frame):
                        target.mux(packet)
                    continue
                fifo.write(frame)
                while fifo.samples >= frame_size:
                    for packet in stream.encode(fifo.read(frame_size)):
                        target.mux(packet)

        for frame in source.decode(src):
            frame.pts = None
            emit(resampler.resample(frame))
        emit(resampler.resample(None))
        if fifo is not None and fifo.samples:
            for packet in stream.encode(fifo.read()):
                target.mux(packet)
        for packet in stream.encode(None):
            target.mux(packet)
    return out.getvalue()


# --------------------------------------------------------------------------- speaking


@dataclass
class LongText:
    """The plan for speaking one text: its chunks, what to request, how to finish.

    Shared by the sync and async paths so they cannot drift apart: they only
    differ in how they send `requests`.
    """

    text: str
    voice: str
    format: str
    max_chars: int = C.MAX_TEXT_CHARS
    chunks: list[str] = field(init=False)

    def __post_init__(self) -> None:
        fmt = (self.format or "").lower()
        if fmt not in C.OUTPUT_FORMATS:
            raise InvalidInputError(f"format must be one of {', '.join(C.OUTPUT_FORMATS)}; got {self.format!r}.")
        self.format = fmt
        self.max_chars = min(self.max_chars, C.MAX_TEXT_CHARS)
        self.chunks = self.split(self.text, self.max_chars)
        if not self.chunks:
            raise InvalidInputError("There is no text to speak: the text is empty.")

    @staticmethod
    def split(text: str, max_chars: int) -> list[str]:
        """The chunks: as few requests as the limit allows (a stream splits for latency instead)."""
        return split_text(text, max_chars)

    @property
    def request_format(self) -> str:
        """What each chunk is asked for: the target itself unless it cannot be joined byte-wise (OGG, FLAC)."""
        if len(self.chunks) == 1 or self.format in ("mp3", "wav"):
            return self.format
        return "wav"

    def finish(self, parts: Sequence[Speech]) -> Speech:
        return finish_parts(parts, text=self.text.strip(), voice=self.voice, fmt=self.format)


def finish_parts(parts: Sequence[Speech], *, text: str, voice: str, fmt: str) -> Speech:
    """The spoken parts of one text as one clip in `fmt` (parts asked as WAV are encoded once)."""
    if len(parts) == 1:
        return Speech(parts[0].data, parts[0].format, text=text, voice=parts[0].voice or voice)
    joined = join_speech(parts, text=text, voice=voice)
    if joined.format != fmt:
        return Speech(_encode_wav_as(joined.data, fmt), fmt, text=text, voice=voice)
    return joined


def speak_long(
    client: SyncSpeaker,
    text: str,
    voice: str,
    format: str = C.DEFAULT_OUTPUT_FORMAT,
    *,
    max_chars: int = C.MAX_TEXT_CHARS,
    on_chunk: Callable[[int, int], None] | None = None,
    cache: bool | None = None,
) -> Speech:
    """Speak text of any length as one clip; `on_chunk(done, total)` after each part.

    Each part goes through the speech cache (`cache=False`: not), as it is
    spoken: a text interrupted halfway resumes where it stopped.
    """
    plan = LongText(text, voice, format, max_chars)
    parts: list[Speech] = []
    for i, chunk in enumerate(plan.chunks):
        parts.append(client.text_to_speech(chunk, voice, plan.request_format, cache=cache))
        if on_chunk is not None:
            on_chunk(i + 1, len(plan.chunks))
    return plan.finish(parts)


async def aspeak_long(
    client: AsyncSpeaker,
    text: str,
    voice: str,
    format: str = C.DEFAULT_OUTPUT_FORMAT,
    *,
    max_chars: int = C.MAX_TEXT_CHARS,
    cache: bool | None = None,
) -> Speech:
    """The async twin of `speak_long` (chunks in order, one request at a time)."""
    plan = LongText(text, voice, format, max_chars)
    parts = [await client.text_to_speech(chunk, voice, plan.request_format, cache=cache) for chunk in plan.chunks]
    return plan.finish(parts)
