"""Server-side checks of an uploaded voice sample, before any cloning work.

The page's requirements: MP3 (recommended), WAV, M4A, FLAC or OGG; 10 s to
5 minutes; one speaker; clear, little background noise; at most 10 MB (that
last one the server enforces while streaming, 413, not here).

Each refusal is a `SampleRejection` carrying the HTTP status, a machine code
and a message saying what was wrong AND what to do. What each check can and
cannot tell:

- empty_file (400): zero bytes.
- unsupported_audio_format (415): FFmpeg cannot read the bytes as audio at
  all (text, an image, random bytes, whatever the name says), or it is real
  audio in another container (WebM, AIFF...), which the message names.
- unreadable_audio (422): the bytes start like one of the five accepted
  containers but no sound decodes from them (cut off inside the header,
  damaged). Our choice: the format IS supported, the file is broken, and
  "export it again" is the useful advice. A file cut off part-way decodes
  to what is there and is judged on that.
- audio_too_short / audio_too_long (422): decoded duration outside
  10 s-5 min, with a small tolerance for codec padding (AAC in M4A decodes
  ~1024 samples long, MP3/Opus round to frames): 9.95 s-300.25 s passes.
- no_speech (422): Silero VAD finds under 4 s of speech. Tells silence,
  noise, tones and music (Silero hears 0 s in each) from speech even under
  heavy noise; cannot tell speech in a language or a synthetic voice from
  any other speech (it accepts both, as it should).
- too_noisy (422): estimated SNR under 6 dB: mean power of the frames Silero
  calls speech against the noise floor (10th percentile of frame power).
  On engine speech mixed with white noise the estimate lands within ~2 dB
  of the true SNR up to 20 dB; clean synthetic speech reads ~24 dB (the
  floor then is quiet speech, not noise), so clean samples are far from
  the line. Cannot tell noise that Silero itself calls speech (babble,
  a second voice far behind) from the speaker. With enhance_quality=true
  the sample is judged as `engine.enhance` leaves it (it lifts a 0 dB
  white-noise sample to ~12 dB), since that is what gets cloned.
- multiple_speakers (422): the pitch of 0.3-3 s chunks of speech falls into
  two clearly separate groups (means >= 5 semitones apart, the gap >= 6x
  the spread inside the groups, the smaller group >= 15 % of voiced time):
  a man and a woman taking turns, say. One espeak voice scores a gap of
  ~1 semitone and a separation of <= 4; alternating male/female pairs
  score 9-14 semitones and >= 20. Cannot tell two speakers of similar
  pitch (two men ~100 and ~130 Hz), or overlapping speech: it misses them
  rather than risk refusing one expressive speaker.

Memory: every check runs at 16 kHz on blocks as they decode (Silero is fed
window by window, frame powers are kept, Praat tracks pitch in 10 s blocks),
so `check_upload` holds a few MB whatever the file's length and rate, and
never reads the upload into memory: the server passes the path. Only
`check_sample`, which returns the samples, keeps the 16 kHz signal (19 MB
for 5 minutes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import numpy as np

from .engine.analysis import TrackStream
from .engine.codec import (
    ACCEPTED_CONTAINERS,
    AudioDecodeError,
    AudioSource,
    DecodedAudio,
    UnsupportedFormatError,
    decode,
    open_audio,
    resample,
    source_is_empty,
)
# Measured the same way by the client's sample report (speechgen_jupyter.sound).
from ..sound.levels import snr_db as _snr_db
from ..sound.levels import window_power as _window_power
from ..sound.speakers import PITCH_STEP as _PITCH_STEP
from ..sound.speakers import looks_like_two
from ..sound.speakers import speaker_split as _speaker_split
from .engine.memory import release_free_memory
from .engine.vad import (
    VAD_RATE,
    SpeechSegment,
    VadStream,
    segments_from_probabilities,
    speech_probabilities,
    windows,
)

__all__ = [
    "SampleRejection",
    "SampleReport",
    "check_sample",
    "check_upload",
    "check_audio",
    "MIN_SECONDS",
    "MAX_SECONDS",
]

MIN_SECONDS = 10.0
MAX_SECONDS = 300.0
#: Decoded durations differ from what was written by codec framing: AAC in
#: M4A decodes ~1024 samples long, MP3 and Opus round to whole frames.
SHORT_TOLERANCE = 0.05
LONG_TOLERANCE = 0.25
MIN_SPEECH_SECONDS = 4.0
MIN_SNR_DB = 6.0

_FORMATS_TEXT = "MP3 (recommended), WAV, M4A, FLAC or OGG"


class SampleRejection(Exception):
    """An upload that breaks a requirement: `status` (HTTP), `code`, `message`.

    The message says what was found and what to do about it; the server
    sends it as ``{"error": {"code": code, "message": message}}``.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"SampleRejection(status={self.status!r}, code={self.code!r}, message={self.message!r})"


@dataclass(frozen=True)
class SampleReport:
    """What the content checks measured (for logs, tests and tuning)."""

    duration: float
    speech_seconds: float
    snr_db: float
    speaker_gap_semitones: float
    speaker_separation: float
    speaker_minor_share: float


def _the(filename: str | None) -> str:
    return f"'{filename}'" if filename else "The sample"


def _suffix(filename: str | None) -> str | None:
    if not filename or "." not in filename:
        return None
    return filename.rsplit(".", 1)[1].lower()


#: Decoding stops this far past the limit: enough to tell "too long" with certainty.
_DECODE_SECONDS = MAX_SECONDS + LONG_TOLERANCE + 1.0
#: Samples fed to the analysis at a time when the whole signal is at hand.
_FEED = 1 << 15


def check_sample(source: AudioSource, filename: str | None = None, *, enhance_quality: bool = False) -> DecodedAudio:
    """Decode an upload and check it against the page's requirements.

    `source` is the file's bytes, a path to it, or an open binary file.
    Returns the decoded audio (as uploaded, not enhanced) at 16 kHz, the
    rate every check and the clone analyse at, when it passes; raises
    `SampleRejection` otherwise (see the module docstring for what each
    check can tell). `filename` is only used in messages: the format is
    judged from content. `enhance_quality=True` (the form field of that
    name) judges noise on the sample as `engine.enhance` will leave it,
    since the clone is then built from the cleaned audio.

    A caller that does not need the samples should use `check_upload`: the
    same checks and refusals without keeping the signal.
    """
    the = _the(filename)
    _refuse_empty(source, the)
    try:
        audio = decode(source, max_seconds=_DECODE_SECONDS, rate=VAD_RATE)
    except AudioDecodeError as err:
        raise _decode_rejection(err, the, filename) from err
    _check_duration(audio.duration, audio.truncated, the)
    check_audio(audio, filename, enhance_quality=enhance_quality)
    return audio


def check_upload(source: AudioSource, filename: str | None = None, *, enhance_quality: bool = False) -> SampleReport:
    """`check_sample` for the server: the same checks and refusals, keeping nothing of the signal.

    The file is decoded to 16 kHz block by block and each block goes
    straight into the content analysis, so memory stays a few MB for any
    accepted upload instead of the decoded signal (19 MB for 5 minutes at
    16 kHz, 53 MB at 44.1 kHz). Only a noisy sample with
    `enhance_quality=True` is decoded whole, since enhancement needs all of
    it. Returns the measurements (`duration` among them). A file object is
    read from its start, and must be seekable. (One difference from
    `check_sample`, by design: a stereo downmix that overshoots full scale,
    which `decode` scales back over the whole signal, is analysed as it
    comes; the checks hardly depend on level.)
    """
    try:
        return _check_upload(source, filename, enhance_quality)
    finally:
        release_free_memory()  # see engine.memory: the next step runs on another thread


def _check_upload(source: AudioSource, filename: str | None, enhance_quality: bool) -> SampleReport:
    the = _the(filename)
    _refuse_empty(source, the)
    content = _Content()
    try:
        with open_audio(source, rate=VAD_RATE, max_seconds=_DECODE_SECONDS) as stream, content:
            for block in _batches(stream.blocks(), _FEED):
                content.feed(block)
            duration = stream.decoded_samples / stream.sample_rate
            truncated = stream.truncated
    except AudioDecodeError as err:
        raise _decode_rejection(err, the, filename) from err
    _check_duration(duration, truncated, the)

    def whole() -> np.ndarray:
        return decode(source, max_seconds=_DECODE_SECONDS, rate=VAD_RATE).samples

    return content.judge(the, duration, enhance_quality=enhance_quality, whole=whole)


def _batches(blocks: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Decoder blocks (1024 samples each for a WAV) regrouped into `size`-sample pieces.

    Why: the analysis costs a few Python calls per piece whatever its size;
    fed 1024 samples at a time, 5 minutes meant ~5,000 rounds of that.
    """
    buf = np.empty(size, dtype=np.float32)
    fill = 0
    for block in blocks:
        while block.size:
            take = min(size - fill, block.size)
            buf[fill : fill + take] = block[:take]
            fill += take
            block = block[take:]
            if fill == size:
                yield buf
                buf, fill = np.empty(size, dtype=np.float32), 0
    if fill:
        yield buf[:fill]


def _refuse_empty(source: AudioSource, the: str) -> None:
    if source_is_empty(source):
        raise SampleRejection(400, "empty_file", f"{the} is empty (0 bytes). Upload a recording of 10 s to 5 minutes of one person speaking.")


def _decode_rejection(err: AudioDecodeError, the: str, filename: str | None) -> SampleRejection:
    """The refusal for a file that does not decode: 415 for not-audio or another container, 422 for a damaged one."""
    if isinstance(err, UnsupportedFormatError):
        return SampleRejection(
            415,
            "unsupported_audio_format",
            f"{the} is {err.detected} audio, which Speechgen does not accept. "
            f"Convert it to {_FORMATS_TEXT} and upload it again.",
        )
    if err.detected in ACCEPTED_CONTAINERS:
        return SampleRejection(
            422,
            "unreadable_audio",
            f"{the} looks like {err.detected.upper()} but is damaged or cut off: no sound could be decoded from it. "
            "Export or download the recording again and upload the complete file.",
        )
    named = _suffix(filename)
    hint = (
        f" Its name ends in .{named}, but its content is not {named.upper()} audio."
        if named in ACCEPTED_CONTAINERS or named == "mp4"
        else ""
    )
    return SampleRejection(
        415,
        "unsupported_audio_format",
        f"{the} could not be read as audio.{hint} Upload a recording in {_FORMATS_TEXT}.",
    )


def _check_duration(d: float, truncated: bool, the: str) -> None:
    if d < MIN_SECONDS - SHORT_TOLERANCE:
        shown = math.floor(d * 10) / 10  # never print "10.0 s" for a refusal
        raise SampleRejection(
            422,
            "audio_too_short",
            f"{the} is {shown:.1f} s long; Speechgen needs 10 s to 5 minutes of speech. "
            "Record a longer sample (30 s or more works best).",
        )
    if truncated or d > MAX_SECONDS + LONG_TOLERANCE:
        if truncated:
            length = f"longer than {MAX_SECONDS / 60 + 1 / 60:.0f} minutes"
        else:
            shown = math.ceil(d * 10) / 10
            length = f"{shown:.1f} s ({int(shown // 60)} min {shown % 60:.1f} s) long"
        raise SampleRejection(
            422,
            "audio_too_long",
            f"{the} is {length}; Speechgen takes at most 5 minutes. "
            "Trim it to the clearest 1-3 minutes of one person speaking and upload that.",
        )


def check_audio(audio: DecodedAudio, filename: str | None = None, *, enhance_quality: bool = False) -> SampleReport:
    """The content checks (speech, noise, speakers) on decoded audio.

    Raises `SampleRejection` (422) for no_speech, too_noisy or
    multiple_speakers; returns the measurements when the sample passes.
    Duration is not checked here (see `check_sample`). With
    `enhance_quality`, a sample that fails the noise check is enhanced and
    judged again (the reported SNR is then the enhanced one). Runs the same
    block-by-block analysis as `check_upload`, over views of the samples
    (16 kHz audio is not copied).
    """
    x16 = audio.samples if audio.sample_rate == VAD_RATE else resample(audio.samples, audio.sample_rate, VAD_RATE)
    x16 = np.asarray(x16, dtype=np.float32).reshape(-1)
    with _Content() as content:
        for i in range(0, x16.size, _FEED):
            content.feed(x16[i : i + _FEED])
    return content.judge(_the(filename), audio.duration, enhance_quality=enhance_quality, whole=lambda: x16)


class _Content:
    """What the content checks need, gathered from a 16 kHz signal fed in blocks of any size.

    Per 32 ms window (Silero's): the speech probability and the mean power;
    and a pitch track every 20 ms. A few hundred KB for 5 minutes, where
    the signal is 19 MB. Used as a context manager for the pooled Silero
    model, then `judge` decides.
    """

    def __init__(self) -> None:
        self._vad = VadStream()
        self._carry = np.zeros(0, dtype=np.float32)
        self._probs: list[np.ndarray] = []
        self._power: list[np.ndarray] = []
        self._pitch = TrackStream(VAD_RATE, time_step=_PITCH_STEP)

    def __enter__(self) -> Self:
        self._vad.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._vad.__exit__(kind, value, tb)

    def feed(self, x16: np.ndarray) -> None:
        self._pitch.feed(x16)
        if self._carry.size:
            x16 = np.concatenate([self._carry, x16])
        whole, rest = windows(x16)
        if whole.shape[0]:
            self._probs.append(self._vad.process(whole))
            self._power.append(_window_power(whole))
        self._carry = rest.copy()

    def judge(self, the: str, duration: float, *, enhance_quality: bool, whole: Callable[[], np.ndarray]) -> SampleReport:
        """Refuse (422) or measure. `whole` gives the full 16 kHz signal, only needed to enhance a noisy sample."""
        probs = np.concatenate(self._probs) if self._probs else np.zeros(0, np.float32)
        power = np.concatenate(self._power) if self._power else np.zeros(0)
        segments = segments_from_probabilities(probs)
        speech = float(sum(s.duration for s in segments))
        if speech < MIN_SPEECH_SECONDS:
            raise SampleRejection(
                422,
                "no_speech",
                f"{the} holds {speech:.1f} s of speech in {duration:.1f} s of audio"
                " (silence, noise, a tone or music are not speech). "
                "Upload a recording of one person speaking clearly for at least 10 s.",
            )
        snr = _snr_db(power, probs)
        if snr < MIN_SNR_DB and enhance_quality:
            from .engine.enhance import enhance

            cleaned = enhance(DecodedAudio(whole(), VAD_RATE, "pcm")).samples
            frames = windows(cleaned)[0]
            power = np.concatenate([_window_power(frames[i : i + 1024]) for i in range(0, frames.shape[0], 1024)] or [power[:0]])
            snr = _snr_db(power, speech_probabilities(cleaned, VAD_RATE))
            del cleaned
        if snr < MIN_SNR_DB:
            raise SampleRejection(
                422,
                "too_noisy",
                f"{the} is too noisy: the speech is only {snr:.0f} dB above the background noise "
                f"(at least {MIN_SNR_DB:.0f} dB needed, 20 dB or more is good"
                + (", even after enhancement). " if enhance_quality else "). ")
                + (
                    "Record again in a quiet room, closer to the microphone."
                    if enhance_quality
                    else "Record again in a quiet room, closer to the microphone, or try enhance_quality=true."
                ),
            )
        track = self._pitch.finish()
        gap, separation, share = _speaker_split(track.f0_times, track.f0, segments)
        if looks_like_two(gap, separation, share):
            raise SampleRejection(
                422,
                "multiple_speakers",
                f"{the} seems to hold more than one speaker: its speech falls into two pitch groups "
                f"{gap:.0f} semitones apart (like a man and a woman taking turns). "
                "Upload a recording of one person only; cut out other voices first.",
            )
        return SampleReport(
            duration=duration,
            speech_seconds=speech,
            snr_db=snr,
            speaker_gap_semitones=gap,
            speaker_separation=separation,
            speaker_minor_share=share,
        )
