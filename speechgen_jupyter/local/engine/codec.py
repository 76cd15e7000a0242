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
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

__all__ = [
    "AudioDecodeError",
    "UnsupportedFormatError",
    "DecodedAudio",
    "ACCEPTED_CONTAINERS",
    "OUTPUT_FORMATS",
    "MEDIA_TYPES",
    "decode",
    "encode",
    "resample",
    "sniff_container",
]

#: What the API accepts as a sample (the page: MP3, WAV, M4A, FLAC or OGG).
ACCEPTED_CONTAINERS = ("mp3", "wav", "m4a", "flac", "ogg")

#: What text-to-speech can return.
OUTPUT_FORMATS = ("mp3", "wav", "ogg", "flac")

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


def _as_mono_float(samples: np.ndarray) -> np.ndarray:
    """Float32, one dimension, peak at most 1.

    Scaling down (rather than clipping) keeps the waveform's shape when a
    downmix overshoots, which PyAV's stereo->mono does (peaks ~1.11).
    """
    out = np.asarray(samples, dtype=np.float32).reshape(-1)
    if out.size and not np.all(np.isfinite(out)):
        out = np.nan_to_num(out, nan=0.0, posinf=1.0, neginf=-1.0)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 1.0:
        out = out / peak
    return out


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


def decode(data: bytes, *, max_seconds: float | None = None) -> DecodedAudio:
    """Decode an uploaded file to float32 mono at its own sample rate.

    Raises `AudioDecodeError` for empty bytes, bytes FFmpeg cannot read as
    audio, and accepted containers that yield no samples (cut off inside the
    header); `UnsupportedFormatError` for real audio in another container.
    A file cut off part-way decodes to the part that is there: that is what a
    player would play, and the duration checks judge it from there.
    `max_seconds` stops decoding early (see `DecodedAudio.truncated`).
    """
    import av  # lazy: keep `import speechgen_jupyter.local.engine` cheap

    if not data:
        raise AudioDecodeError("The file is empty.")
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError, OSError, UnicodeDecodeError) as err:
        sniffed = sniff_container(data)
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
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        if rate <= 0:
            raise AudioDecodeError("The audio stream has no sample rate.", detected=detected)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks: list[np.ndarray] = []
        total = 0
        limit = None if max_seconds is None else int(max_seconds * rate)
        truncated = False
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                if limit is not None and total > limit:
                    truncated = True
                    break
            if not truncated:
                for out in resampler.resample(None):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
        except (av.FFmpegError, ValueError) as err:
            # Damage part-way: keep what decoded, like a player would.
            if total == 0:
                raise AudioDecodeError(
                    f"The file looks like {detected.upper()} but its audio could not be decoded.",
                    detected=detected,
                ) from err
    if total == 0:
        raise AudioDecodeError(
            f"The file looks like {detected.upper()} but holds no audio samples.", detected=detected
        )
    samples = _as_mono_float(np.concatenate(chunks))
    if limit is not None and truncated:
        samples = samples[: limit + 1]
    return DecodedAudio(samples=samples, sample_rate=rate, container=detected, truncated=truncated)


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample float32 mono with FFmpeg's swresample (band-limited, fast).

    Analysis runs at fixed rates (Silero VAD needs 16 kHz), and Opus only
    encodes at 8/12/16/24/48 kHz.
    """
    import av

    samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
    if from_rate == to_rate or samples.size == 0:
        return samples.copy()
    resampler = av.AudioResampler(format="flt", layout="mono", rate=to_rate)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = from_rate
    frame.pts = 0
    frame.time_base = Fraction(1, from_rate)
    parts = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    out = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    want = int(round(samples.size * to_rate / from_rate))
    if out.size < want:
        out = np.pad(out, (0, want - out.size))
    return out[:want].astype(np.float32, copy=False)


# fmt -> (muxer, codec, allowed sample rates or None for any, options)
_ENCODERS: dict[str, tuple[str, str, tuple[int, ...] | None, dict[str, str]]] = {
    "mp3": ("mp3", "libmp3lame", (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000), {}),
    "wav": ("wav", "pcm_s16le", None, {}),
    "flac": ("flac", "flac", None, {}),
    # Opus in Ogg: FFmpeg's own Vorbis encoder is experimental and sounds worse.
    "ogg": ("ogg", "libopus", (8000, 12000, 16000, 24000, 48000), {}),
}

# Speech is mono and narrow-band enough that these keep it transparent and small.
_BIT_RATES = {"mp3": 64_000, "ogg": 48_000}


def encode(samples: np.ndarray, sample_rate: int, fmt: str) -> bytes:
    """Encode float32 mono into a complete file of `fmt` (one of OUTPUT_FORMATS).

    The rate is kept when the codec allows it, else moved to the nearest
    allowed rate above (MP3 and Opus have fixed lists). Raises ValueError for
    an unknown format.
    """
    import av

    if fmt not in _ENCODERS:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    muxer, codec, rates, options = _ENCODERS[fmt]
    samples = _as_mono_float(samples)
    np.clip(samples, -1.0, 1.0, out=samples)
    rate = int(sample_rate)
    if rates is not None and rate not in rates:
        higher = [r for r in rates if r >= rate]
        target = higher[0] if higher else rates[-1]
        samples = resample(samples, rate, target)
        rate = target
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=muxer) as container:
        stream = container.add_stream(codec, rate=rate, options=options)
        stream.layout = "mono"
        stream.time_base = Fraction(1, rate)
        if fmt in _BIT_RATES:
            stream.bit_rate = _BIT_RATES[fmt]
        frame_size = stream.codec_context.frame_size or 4096
        pts = 0
        for start in range(0, len(samples), frame_size):
            chunk = samples[start : start + frame_size]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = rate
            frame.pts = pts
            frame.time_base = Fraction(1, rate)
            pts += len(chunk)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()
