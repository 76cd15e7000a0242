"""Decode any accepted upload and encode what text-to-speech returns, with PyAV.

Why PyAV: it ships its own FFmpeg, so MP3, WAV, M4A, FLAC and OGG decode and
MP3, WAV, OGG and FLAC encode with nothing installed from apt and nothing
downloaded at run time.

The container is judged from the bytes (FFmpeg's probe), never from the file
name: a text file called ``voice.mp3`` is text, and a WebM called ``.ogg`` is
WebM. Everything past this module works on float32 mono in [-1, 1].
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, Union

import numpy as np

# Shared with the client, which prepares samples before upload (see sound/codec.py).
from ...sound.codec import OUTPUT_FORMATS, STREAMABLE_FORMATS, encode, encode_stream, resample

__all__ = [
    "AudioDecodeError",
    "UnsupportedFormatError",
    "DecodedAudio",
    "ACCEPTED_CONTAINERS",
    "OUTPUT_FORMATS",
    "MEDIA_TYPES",
    "AudioSource",
    "AudioStream",
    "decode",
    "encode",
    "encode_stream",
    "STREAMABLE_FORMATS",
    "open_audio",
    "resample",
    "sniff_container",
    "source_is_empty",
]

#: What `decode` and `open_audio` read: the file's bytes, a path to it, or an open binary file.
AudioSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", IO[bytes]]

#: What the API accepts as a sample (the page: MP3, WAV, M4A, FLAC or OGG).
ACCEPTED_CONTAINERS = ("mp3", "wav", "m4a", "flac", "ogg")

MEDIA_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "flac": "audio/flac"}

# FFmpeg demuxer names -> the API's names. The MP4 demuxer answers for the
# whole ISO family (m4a, mp4, mov, 3gp); an M4A is an MP4 holding audio.
_DEMUXER_TO_CONTAINER = {
    "mp3": "mp3",
    "wav": "wav",
    "w64": "wav",
    "flac": "flac",
    "ogg": "ogg",
    "mov,mp4,m4a,3gp,3g2,mj2": "m4a",
}

# Readable names for containers we refuse, so the message can say what it found.
_DEMUXER_NAMES = {
    "matroska,webm": "WebM/Matroska",
    "aiff": "AIFF",
    "caf": "CAF",
    "asf": "WMA/ASF",
    "amr": "AMR",
    "au": "Sun AU",
    "aac": "raw AAC (ADTS)",
    "ac3": "AC-3",
    "wv": "WavPack",
    "ape": "Monkey's Audio",
    "mpeg": "MPEG program stream",
    "mpegts": "MPEG transport stream",
    "avi": "AVI",
    "flv": "FLV",
}


class AudioDecodeError(ValueError):
    """The bytes are not usable audio: empty, not audio at all, or damaged beyond use.

    `detected` is the accepted container the bytes looked like ("mp3", ...)
    when FFmpeg recognised one but could not get any sound out of it (a
    truncated file, say), else None. The upload checks use it to tell a broken
    MP3 (the user should re-export it) from a file that is not audio at all.
    """

    def __init__(self, message: str, *, detected: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detected = detected


class UnsupportedFormatError(AudioDecodeError):
    """Real audio, but in a container the API does not accept (WebM, AIFF...).

    `detected` names what was found, in words a user recognises.
    """


@dataclass(frozen=True)
class DecodedAudio:
    """A decoded sample: float32 mono in [-1, 1] plus what it came in.

    `container` is what the content IS ("mp3", "wav", "m4a", "flac", "ogg"),
    or "pcm" for audio made in memory (synthesis, enhancement).
    `truncated` is True when decoding stopped at `max_seconds`: the audio is
    longer than `duration` says (a guard against a 10 MB FLAC of silence
    that would decode into days of samples).
    """

    samples: np.ndarray
    sample_rate: int
    container: str
    truncated: bool = field(default=False)

    @property
    def duration(self) -> float:
        """Seconds of audio held in `samples`."""
        return len(self.samples) / float(self.sample_rate)


def sniff_container(data: bytes) -> str | None:
    """The accepted container the first bytes announce, or None.

    Only used when FFmpeg refuses a file outright: a file cut off inside its
    header still starts with its magic bytes, and saying "this MP3 is damaged,
    export it again" helps more than "this is not audio".
    """
    head = data[:16]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE6) in (0xE2, 0xE4, 0xE6)):
        # ID3 tag, or an MPEG audio frame sync with layer III/II/I bits set.
        return "mp3"
    return None


@contextmanager
def _binary(source: AudioSource) -> Iterator[IO[bytes]]:
    """`source` as a readable binary file, at its start.

    A path is opened here, in Python, and handed to FFmpeg as a file object
    rather than as a name: FFmpeg would read a name as a URL (``concat:``,
    ``http:``...) and let its extension sway the format probe, and the
    container must be judged from the bytes alone. Bytes are wrapped without
    a copy (BytesIO shares an immutable buffer until written to). A caller's
    file object is rewound and read from its start (FFmpeg seeks by absolute
    position, so a file read from the middle would be misread), and left
    open: it is the caller's to close.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            yield f
    else:
        if not source.seekable():
            raise TypeError("decoding needs a seekable file (or bytes, or a path)")
        source.seek(0)
        yield source


def _read_head(f: IO[bytes], size: int = 16) -> bytes:
    """The next `size` bytes, without moving the file on.

    Raises TypeError for a file that cannot seek back (a pipe, a socket):
    FFmpeg's probe needs to seek as well, so such a source could not be
    decoded anyway; save it to a file first.
    """
    if not f.seekable():
        raise TypeError("decoding needs a seekable file (or bytes, or a path)")
    where = f.tell()
    head = f.read(size)
    f.seek(where)
    return head


def source_is_empty(source: AudioSource) -> bool:
    """True when the upload holds zero bytes (without reading it all)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return len(source) == 0
    if isinstance(source, (str, os.PathLike)):
        return os.stat(source).st_size == 0
    with _binary(source) as f:
        return not _read_head(f, 1)


class AudioStream:
    """An opened file, decoded on demand to float32 mono blocks at `sample_rate`.

    Made by `open_audio`. Why a stream: a 5-minute upload decoded whole is
    tens of MB at its own rate, while what the checks keep of it (frame
    probabilities, powers, pitch) is a few hundred KB; consumers that can
    work block by block never hold the whole signal.

    `container` is what the content is ("mp3", ...); `source_rate` the
    file's own rate; `sample_rate` the rate the blocks come in (FFmpeg's
    swresample converts while decoding). `expected_samples` is the
    container's estimate of the length at `sample_rate` (0 when it has
    none): a preallocation hint, never trusted for anything else.
    `limit_samples` is where `max_seconds` stops decoding (None: no limit).
    After `blocks()` is exhausted, `decoded_samples` is how many it yielded
    and `truncated` whether it stopped at the limit.
    """

    def __init__(
        self,
        container: str,
        sample_rate: int,
        source_rate: int,
        expected_samples: int,
        limit_samples: int | None,
        av_container: Any,
        av_stream: Any,
    ) -> None:
        self.container = container
        self.sample_rate = sample_rate
        self.source_rate = source_rate
        self.expected_samples = expected_samples
        self.limit_samples = limit_samples
        self.decoded_samples = 0
        self.truncated = False
        self._av_container = av_container
        self._av_stream = av_stream

    def blocks(self) -> Iterator[np.ndarray]:
        """Float32 mono blocks, in order, as FFmpeg hands them over (about a thousand samples each). Once only.

        Not scaled: a downmix can overshoot 1.0 a little (see
        `_as_mono_float`), which `decode` corrects over the whole signal.
        Non-finite samples (a broken float WAV) become 0 or +-1. Damage
        part-way ends the stream quietly, like a player would stop; damage
        before any sound, or no sound at all, raises `AudioDecodeError`.
        At the limit, one sample more than `limit_samples` is yielded, so
        "longer than the limit" can be told from "exactly the limit".
        """
        import av

        detected = self.container
        resampler = av.AudioResampler(format="flt", layout="mono", rate=self.sample_rate)
        limit = self.limit_samples
        try:
            for frame in self._av_container.decode(self._av_stream):
                for out in resampler.resample(frame):
                    chunk = _finite(out.to_ndarray().reshape(-1))
                    if limit is not None and self.decoded_samples + chunk.size > limit:
                        keep = limit + 1 - self.decoded_samples
                        self.truncated = True
                        if keep > 0:
                            self.decoded_samples += keep
                            yield chunk[:keep]
                        return
                    self.decoded_samples += chunk.size
                    yield chunk
            for out in resampler.resample(None):
                chunk = _finite(out.to_ndarray().reshape(-1))
                if limit is not None and self.decoded_samples + chunk.size > limit:
                    chunk = chunk[: max(limit + 1 - self.decoded_samples, 0)]
                    self.truncated = True
                self.decoded_samples += chunk.size
                if chunk.size:
                    yield chunk
        except (av.FFmpegError, ValueError) as err:
            # Damage part-way: keep what decoded, like a player would.
            if self.decoded_samples == 0:
                raise AudioDecodeError(
                    f"The file looks like {detected.upper()} but its audio could not be decoded.",
                    detected=detected,
                ) from err
        if self.decoded_samples == 0:
            raise AudioDecodeError(f"The file looks like {detected.upper()} but holds no audio samples.", detected=detected)


def _finite(chunk: np.ndarray) -> np.ndarray:
    if chunk.size and not np.all(np.isfinite(chunk)):
        chunk = np.nan_to_num(chunk, nan=0.0, posinf=1.0, neginf=-1.0)
    return chunk


@contextmanager
def open_audio(source: AudioSource, *, rate: int | None = None, max_seconds: float | None = None) -> Iterator[AudioStream]:
    """Open an upload for decoding block by block (see `AudioStream`).

    `source` is the file's bytes, a path, or a seekable binary file object
    (read from its start; not closed here). `rate` resamples while
    decoding (None keeps the file's own rate); `max_seconds` stops decoding
    early (see `DecodedAudio.truncated`).

    Raises `AudioDecodeError` for empty input, bytes FFmpeg cannot read as
    audio, and accepted containers without a usable audio stream;
    `UnsupportedFormatError` for real audio in another container.
    """
    import av  # lazy: keep `import speechgen_jupyter.local.engine` cheap

    with _binary(source) as f:
        head = _read_head(f)
        if not head:
            raise AudioDecodeError("The file is empty.")
        try:
            container = av.open(f, mode="r")
        except (av.FFmpegError, ValueError, OSError, UnicodeDecodeError) as err:
            sniffed = sniff_container(head)
            if sniffed is not None:
                raise AudioDecodeError(
                    f"The file starts like {sniffed.upper()} but is damaged or cut off; FFmpeg could not open it.",
                    detected=sniffed,
                ) from err
            raise AudioDecodeError(f"The file could not be read as audio ({err.__class__.__name__}).") from err
        with container:
            demuxer = container.format.name
            detected = _DEMUXER_TO_CONTAINER.get(demuxer)
            if not container.streams.audio:
                # A readable container with no sound in it (a video-only MP4, a
                # text file FFmpeg probed as something): not audio, not "damaged".
                raise AudioDecodeError("The file holds no audio stream.")
            if detected is None:
                name = _DEMUXER_NAMES.get(demuxer, demuxer.split(",")[0].upper())
                raise UnsupportedFormatError(f"The file is {name} audio.", detected=name)
            stream = container.streams.audio[0]
            source_rate = int(stream.codec_context.sample_rate or stream.rate or 0)
            if source_rate <= 0:
                raise AudioDecodeError("The audio stream has no sample rate.", detected=detected)
            out_rate = int(rate) if rate else source_rate
            seconds = 0.0
            if stream.duration is not None and stream.time_base is not None:
                seconds = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                seconds = container.duration / 1_000_000  # AV_TIME_BASE
            yield AudioStream(
                container=detected,
                sample_rate=out_rate,
                source_rate=source_rate,
                expected_samples=max(int(seconds * out_rate), 0),
                limit_samples=None if max_seconds is None else int(max_seconds * out_rate),
                av_container=container,
                av_stream=stream,
            )


class _Growing:
    """One float32 array filled block by block: no list of chunks, no final concatenate.

    Joining chunks peaks at twice the signal (the chunks plus the joined
    copy); this fills one buffer. The first capacity comes from the
    container's estimate, or the `max_seconds` bound when there is one:
    pages of an `np.empty` that are never written are never resident, so
    asking for the bound costs only what is filled. `finish` shrinks the
    buffer in place (realloc) to what was filled.
    """

    def __init__(self, capacity: int) -> None:
        self.data = np.empty(max(capacity, 1), dtype=np.float32)
        self.size = 0

    def append(self, block: np.ndarray) -> None:
        end = self.size + block.size
        if end > self.data.size:
            # The estimate was short (a VBR MP3 without a length header...): grow in place.
            self.data.resize(max(end, int(self.data.size * 1.25) + 16_000), refcheck=False)
        self.data[self.size : end] = block
        self.size = end

    def finish(self) -> np.ndarray:
        self.data.resize(self.size, refcheck=False)
        return self.data


def decode(source: AudioSource, *, max_seconds: float | None = None, rate: int | None = None) -> DecodedAudio:
    """Decode an uploaded file to float32 mono, at its own rate or at `rate`.

    `source` is the file's bytes, a path, or a binary file object: the server
    passes the path of the upload on disk, so the file is never held in
    memory as bytes next to its decoded samples. `rate=16_000` (what every
    check and the clone analyse at) resamples while decoding, so the
    full-rate signal never exists: 5 minutes take 19 MB instead of 53 MB
    at 44.1 kHz.

    Raises `AudioDecodeError` for empty input, bytes FFmpeg cannot read as
    audio, and accepted containers that yield no samples (cut off inside the
    header); `UnsupportedFormatError` for real audio in another container.
    A file cut off part-way decodes to the part that is there: that is what a
    player would play, and the duration checks judge it from there.
    `max_seconds` stops decoding early (see `DecodedAudio.truncated`).
    """
    with open_audio(source, rate=rate, max_seconds=max_seconds) as stream:
        if stream.limit_samples is not None:
            capacity = stream.limit_samples + 1  # never-written pages of it are never resident
        else:
            capacity = stream.expected_samples + stream.sample_rate  # a second over the estimate
        buffer = _Growing(capacity)
        for block in stream.blocks():
            buffer.append(block)
        samples = _scale_into_range(buffer.finish())
        return DecodedAudio(samples=samples, sample_rate=stream.sample_rate, container=stream.container, truncated=stream.truncated)


def _scale_into_range(samples: np.ndarray) -> np.ndarray:
    """`_as_mono_float` for an array this module owns: scaled in place, no copy."""
    # max and -min rather than max(abs(...)): no full-length temporary.
    peak = max(float(samples.max()), -float(samples.min())) if samples.size else 0.0
    if peak > 1.0:
        samples *= np.float32(1.0 / peak)
    return samples
