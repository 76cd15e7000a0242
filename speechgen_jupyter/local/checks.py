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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .engine.codec import (
    ACCEPTED_CONTAINERS,
    AudioDecodeError,
    DecodedAudio,
    UnsupportedFormatError,
    decode,
    resample,
)

__all__ = ["SampleRejection", "SampleReport", "check_sample", "check_audio", "MIN_SECONDS", "MAX_SECONDS"]

MIN_SECONDS = 10.0
MAX_SECONDS = 300.0
#: Decoded durations differ from what was written by codec framing: AAC in
#: M4A decodes ~1024 samples long, MP3 and Opus round to whole frames.
SHORT_TOLERANCE = 0.05
LONG_TOLERANCE = 0.25
MIN_SPEECH_SECONDS = 4.0
MIN_SNR_DB = 6.0
SPEAKER_GAP_SEMITONES = 5.0
SPEAKER_SEPARATION = 6.0
SPEAKER_MIN_SHARE = 0.15

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


def check_sample(data: bytes, filename: str | None = None, *, enhance_quality: bool = False) -> DecodedAudio:
    """Decode an upload and check it against the page's requirements.

    Returns the decoded audio (as uploaded, not enhanced) when it passes;
    raises `SampleRejection` otherwise (see the module docstring for what
    each check can tell). `filename` is only used in messages: the format is
    judged from content. `enhance_quality=True` (the form field of that
    name) judges noise on the sample as `engine.enhance` will leave it,
    since the clone is then built from the cleaned audio.
    """
    the = _the(filename)
    if not data:
        raise SampleRejection(400, "empty_file", f"{the} is empty (0 bytes). Upload a recording of 10 s to 5 minutes of one person speaking.")
    try:
        audio = decode(data, max_seconds=MAX_SECONDS + LONG_TOLERANCE + 1.0)
    except UnsupportedFormatError as err:
        raise SampleRejection(
            415,
            "unsupported_audio_format",
            f"{the} is {err.detected} audio, which Speechgen does not accept. "
            f"Convert it to {_FORMATS_TEXT} and upload it again.",
        ) from err
    except AudioDecodeError as err:
        if err.detected in ACCEPTED_CONTAINERS:
            raise SampleRejection(
                422,
                "unreadable_audio",
                f"{the} looks like {err.detected.upper()} but is damaged or cut off: no sound could be decoded from it. "
                "Export or download the recording again and upload the complete file.",
            ) from err
        named = _suffix(filename)
        hint = (
            f" Its name ends in .{named}, but its content is not {named.upper()} audio."
            if named in ACCEPTED_CONTAINERS or named == "mp4"
            else ""
        )
        raise SampleRejection(
            415,
            "unsupported_audio_format",
            f"{the} could not be read as audio.{hint} Upload a recording in {_FORMATS_TEXT}.",
        ) from err
    _check_duration(audio, the)
    check_audio(audio, filename, enhance_quality=enhance_quality)
    return audio


def _check_duration(audio: DecodedAudio, the: str) -> None:
    d = audio.duration
    if d < MIN_SECONDS - SHORT_TOLERANCE:
        shown = math.floor(d * 10) / 10  # never print "10.0 s" for a refusal
        raise SampleRejection(
            422,
            "audio_too_short",
            f"{the} is {shown:.1f} s long; Speechgen needs 10 s to 5 minutes of speech. "
            "Record a longer sample (30 s or more works best).",
        )
    if audio.truncated or d > MAX_SECONDS + LONG_TOLERANCE:
        if audio.truncated:
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
    judged again (the reported SNR is then the enhanced one).
    """
    from .engine.vad import VAD_RATE, segments_from_probabilities, speech_probabilities

    the = _the(filename)
    x16 = resample(audio.samples, audio.sample_rate, VAD_RATE)
    probs = speech_probabilities(x16, VAD_RATE)
    segments = segments_from_probabilities(probs)
    speech = float(sum(s.duration for s in segments))
    if speech < MIN_SPEECH_SECONDS:
        raise SampleRejection(
            422,
            "no_speech",
            f"{the} holds {speech:.1f} s of speech in {audio.duration:.1f} s of audio"
            " (silence, noise, a tone or music are not speech). "
            "Upload a recording of one person speaking clearly for at least 10 s.",
        )
    snr = _snr_db(x16, probs)
    if snr < MIN_SNR_DB and enhance_quality:
        from .engine.enhance import enhance

        cleaned = enhance(DecodedAudio(x16, VAD_RATE, audio.container))
        snr = _snr_db(cleaned.samples, speech_probabilities(cleaned.samples, VAD_RATE))
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
    gap, separation, share = _speaker_split(x16, VAD_RATE, segments)
    if gap >= SPEAKER_GAP_SEMITONES and separation >= SPEAKER_SEPARATION and share >= SPEAKER_MIN_SHARE:
        raise SampleRejection(
            422,
            "multiple_speakers",
            f"{the} seems to hold more than one speaker: its speech falls into two pitch groups "
            f"{gap:.0f} semitones apart (like a man and a woman taking turns). "
            "Upload a recording of one person only; cut out other voices first.",
        )
    return SampleReport(
        duration=audio.duration,
        speech_seconds=speech,
        snr_db=snr,
        speaker_gap_semitones=gap,
        speaker_separation=separation,
        speaker_minor_share=share,
    )


def _snr_db(x16: np.ndarray, probs: np.ndarray, window: int = 512) -> float:
    """Speech-to-noise ratio in dB (see the module docstring); 99 for digital silence."""
    n = probs.size
    if n == 0:
        return 0.0
    power = np.mean(x16[: n * window].astype(np.float64).reshape(n, window) ** 2, axis=1)
    noise = float(np.percentile(power, 10))
    speech = power[probs > 0.5]
    if speech.size == 0:
        return 0.0
    level = float(np.mean(speech))
    if noise <= 1e-10:
        return 99.0
    return float(10.0 * np.log10(max(level - noise, 1e-12) / noise))


def _speaker_split(x16: np.ndarray, rate: int, segments: list) -> tuple[float, float, float]:
    """(gap in semitones, separation, minor share) of the best two-group split
    of chunk pitch medians; zeros when there is too little to judge."""
    from .engine.analysis import pitch_track

    times, f0 = pitch_track(x16, rate, time_step=0.02)
    step = 0.02
    values: list[float] = []
    weights: list[float] = []
    for seg in segments:
        a = seg.start
        while a < seg.end - 0.2:
            b = min(seg.end, a + 3.0)
            if seg.end - b < 1.0:
                b = seg.end
            sel = (times >= a) & (times < b) & (f0 > 0)
            voiced = float(np.count_nonzero(sel)) * step
            if voiced >= 0.3:
                values.append(float(np.log2(np.median(f0[sel]))))
                weights.append(voiced)
            a = b
    if len(values) < 4:
        return 0.0, 0.0, 0.0
    v = np.asarray(values)
    w = np.asarray(weights)
    order = np.argsort(v)
    v, w = v[order], w[order]
    best = (-1.0, 0.0, 0.0, 0.0)
    for k in range(2, len(v) - 1):  # at least two chunks on each side
        w1, w2 = w[:k].sum(), w[k:].sum()
        m1, m2 = np.average(v[:k], weights=w[:k]), np.average(v[k:], weights=w[k:])
        between = w1 * w2 / (w1 + w2) ** 2 * (m2 - m1) ** 2
        if between > best[0]:
            var1 = np.average((v[:k] - m1) ** 2, weights=w[:k])
            var2 = np.average((v[k:] - m2) ** 2, weights=w[k:])
            pooled = math.sqrt((w1 * var1 + w2 * var2) / (w1 + w2))
            best = (between, 12.0 * (m2 - m1), (m2 - m1) / max(pooled, 1e-3), min(w1, w2) / (w1 + w2))
    return best[1], best[2], best[3]
