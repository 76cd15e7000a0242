"""From measurements to advice: each check against Speechgen's page and its recording tips.

The page's rules: 10 s to 5 minutes, one speaker, clear audio with little
background noise, at most 10 MB, MP3/WAV/M4A/FLAC/OGG. Its tips: a quiet
room without echo, a natural and consistent pace, a consistent distance
from the microphone, no background music or noise, at least 30 s for best
quality. Breaking a rule the client enforces (length here; format and size
are refused before any measuring) is an error; everything else is a
warning (likely to hurt the clone, or to be refused by the server: it is
the server's to refuse, not ours) or advice (it would be better if...).

Thresholds, and why:
- speech under 4 s: the local server refuses it (no_speech); under 30 s:
  the page's "at least 30 seconds".
- 1.5 s or more before the first or after the last word: worth trimming;
  loud rather than quiet (music, noise) is a warning, the page says avoid it.
- a pause of 3 s or more inside: breaks "a consistent pace".
- clipping: 0.1 % of samples at full scale is audible distortion (speech
  driven 3x into clipping: 1.5 % in WAV, 0.3 % in MP3); 0.01 % is a few
  peaks, worth a look.
- loudness: BS.1770 integrated; -26 to -12 LUFS is comfortable, quieter
  speech drowns in its own noise when it is turned up.
- SNR: under 6 dB the local server refuses the sample (too_noisy); 15 dB
  and up reads as clean (clean engine speech measures ~22 dB, speech under
  white noise at 20 dB measures ~17 dB, at 10 dB ~9 dB).
"""

from __future__ import annotations

import math

from ..audio import DURATION_TOLERANCE, MAX_SECONDS, MIN_SECONDS, PADDING_TOLERANCE
from ..sound.speakers import looks_like_two
from .report import Finding, Measurements, clock

__all__ = ["judge"]

MIN_SPEECH_SECONDS = 4.0
GOOD_SPEECH_SECONDS = 30.0
EDGE_SECONDS = 1.5
LONG_PAUSE_SECONDS = 3.0
CLIP_WARNING = 1e-3
CLIP_ADVICE = 1e-4
QUIET_LUFS = -26.0
VERY_QUIET_LUFS = -40.0
LOUD_LUFS = -12.0
NOISY_SNR_DB = 6.0
CLEAN_SNR_DB = 15.0
LOW_RATE = 16_000

_INSTALL = "pip install 'speechgen_jupyter[local]'"
_TRIM = "drag the selection's handles, or prepare_sample(..., trim_silence=True)"


def judge(m: Measurements) -> tuple[Finding, ...]:
    """One finding per check, in the table's order."""
    return tuple(
        f
        for f in (
            _duration(m),
            _speech(m),
            _edge(m, "start"),
            _edge(m, "end"),
            _pauses(m),
            _voices(m),
            _noise(m),
            _clipping(m),
            _loudness(m),
            _format(m),
        )
        if f is not None
    )


def _unchecked(check: str, label: str, m: Measurements, what: str) -> Finding:
    reason = next((u for u in m.unavailable if u.startswith(check + ":")), None)
    why = reason.split(":", 1)[1].strip() if reason else f"it needs the [local] extra ({_INSTALL})"
    return Finding(check, "unchecked", label, "not measured", f"{what} could not be checked here: {why}.")


def _duration(m: Measurements) -> Finding:
    d = m.duration
    what = "The sample" if m.whole else "The selection"
    if d < MIN_SECONDS - DURATION_TOLERANCE:
        return Finding(
            "duration", "error", "Length", clock(d),
            f"{what} is {clock(d)} long; Speechgen needs 10 seconds to 5 minutes of one person speaking. "
            + ("Record a longer sample (30 seconds or more gives the best clone)." if m.whole
               else "Select more (30 seconds or more gives the best clone)."),
        )
    if d > MAX_SECONDS + PADDING_TOLERANCE:
        return Finding(
            "duration", "error", "Length", clock(d),
            f"{what} is {clock(d)} long; Speechgen takes at most 5 minutes. "
            + ("Trim it to the clearest 1 to 3 minutes of one person speaking."),
        )
    return Finding("duration", "ok", "Length", clock(d), "Within 10 s to 5 minutes.")


def _speech(m: Measurements) -> Finding:
    if m.speech_seconds is None:
        return _unchecked("speech", "Speech", m, "How much of it is speech")
    s = m.speech_seconds
    share = s / m.duration if m.duration > 0 else 0.0
    value = f"{s:.1f} s ({share:.0%})"
    if s < MIN_SPEECH_SECONDS:
        return Finding(
            "speech", "warning", "Speech", value,
            f"Only {s:.1f} s of speech found in {clock(m.duration)} (silence, noise, tones and music are not speech). "
            "Speechgen needs one person speaking: this is likely to be refused. Record 30 s or more of your voice.",
        )
    if s < GOOD_SPEECH_SECONDS:
        return Finding(
            "speech", "advice", "Speech", value,
            f"{s:.0f} s of speech: 30 s or more gives a better clone.",
        )
    return Finding("speech", "ok", "Speech", value, f"{s:.0f} s of speech: enough for a good clone.")


def _edge(m: Measurements, which: str) -> Finding | None:
    if m.speech_seconds is None:
        return None  # said once, by the speech check
    gap = m.leading_silence if which == "start" else m.trailing_silence
    loud = m.leading_sound if which == "start" else m.trailing_sound
    label = "Start" if which == "start" else "End"
    if gap is None:
        return None  # no speech at all: the speech check says so
    where = "before the speech starts" if which == "start" else "after the speech ends"
    if gap < EDGE_SECONDS:
        return Finding(which, "ok", label, clock(gap), f"{clock(gap)} {where}.")
    if loud:
        return Finding(
            which, "warning", label, clock(gap),
            f"{clock(gap)} of sound that is not speech (music? noise?) {where}: "
            f"cut it off ({_TRIM}); the page says to avoid background music or noise.",
        )
    return Finding(which, "advice", label, clock(gap), f"{clock(gap)} of silence {where}: trim it ({_TRIM}).")


def _pauses(m: Measurements) -> Finding | None:
    if m.speech_seconds is None or m.longest_pause is None:
        return None
    p, at = m.longest_pause, m.longest_pause_at or 0.0
    if p < LONG_PAUSE_SECONDS:
        return Finding("pauses", "ok", "Pauses", f"{p:.1f} s longest", "No long pauses: a steady pace.")
    if m.longest_pause_sound:
        return Finding(
            "pauses", "warning", "Pauses", f"{p:.1f} s at {clock(at)}",
            f"{p:.1f} s of sound that is not speech (music? noise?) at {clock(at)}: select around it, "
            "or record again without background music or noise.",
        )
    return Finding(
        "pauses", "advice", "Pauses", f"{p:.1f} s at {clock(at)}",
        f"A {p:.1f} s pause at {clock(at)}: a natural, consistent pace clones better; select around it or record again.",
    )


def _voices(m: Measurements) -> Finding | None:
    if m.speech_seconds is None:
        return None
    if m.speaker_gap_semitones is None:
        return _unchecked("voices", "Voices", m, "Whether more than one person speaks")
    if m.speech_seconds < MIN_SPEECH_SECONDS:
        return None
    gap, sep, share = m.speaker_gap_semitones, m.speaker_separation or 0.0, m.speaker_minor_share or 0.0
    if gap == 0.0 and sep == 0.0:
        return Finding(
            "voices", "unchecked", "Voices", "not told",
            "Too little voiced speech to tell whether more than one person speaks.",
        )
    if looks_like_two(gap, sep, share):
        return Finding(
            "voices", "warning", "Voices", "more than one?",
            f"More than one voice? The speech falls into two pitch groups {gap:.0f} semitones apart "
            f"({share:.0%} of it in the smaller one), like a man and a woman taking turns. "
            "Keep one person's speech only: Speechgen needs a single speaker.",
        )
    return Finding(
        "voices", "ok", "Voices", "one",
        "One voice, as far as pitch tells (two people of similar pitch, or talking over each other, cannot be told apart).",
    )


def _noise(m: Measurements) -> Finding | None:
    if m.speech_seconds is None or m.snr_db is None:
        return _unchecked("noise", "Noise", m, "Background noise") if m.speech_seconds is None else None
    if m.speech_seconds < MIN_SPEECH_SECONDS:
        return None  # no speech to compare the noise with
    snr = m.snr_db
    floor = "digital silence" if m.noise_floor_dbfs is None else f"floor {m.noise_floor_dbfs:.0f} dBFS"
    value = f"SNR {snr:.0f} dB" if snr < 90 else "no noise"
    if snr < NOISY_SNR_DB:
        return Finding(
            "noise", "warning", "Noise", value,
            f"Very noisy: the speech is only {snr:.0f} dB above the background ({floor}); this is likely to be refused. "
            "Record in a quiet room, closer to the microphone, or try enhance_quality=True.",
        )
    if snr < CLEAN_SNR_DB:
        return Finding(
            "noise", "advice", "Noise", value,
            f"Some background noise: the speech is {snr:.0f} dB above it ({floor}); 15 dB or more is clean. "
            "A quieter room, or enhance_quality=True, gives a clearer clone.",
        )
    return Finding("noise", "ok", "Noise", value, f"Little background noise ({floor}).")


def _clipping(m: Measurements) -> Finding:
    if m.clipped_share is None:
        return _unchecked("clipping", "Clipping", m, "Clipping")
    c = m.clipped_share
    peak = "" if m.peak_dbfs is None or not math.isfinite(m.peak_dbfs) else f"peak {m.peak_dbfs:.1f} dBFS"
    value = f"{c:.2%}" if c >= CLIP_ADVICE else "none"
    if c >= CLIP_WARNING:
        return Finding(
            "clipping", "warning", "Clipping", value,
            f"Clipped: {c:.2%} of the samples are at full scale, so the loudest sounds are cut off and distorted, "
            "and the clone copies the distortion. Record again with the input level lower (peaks around -6 dBFS).",
        )
    if c >= CLIP_ADVICE:
        return Finding(
            "clipping", "advice", "Clipping", value,
            f"A few peaks reach full scale ({c:.2%} of the samples): listen for crackles; a slightly lower input level is safer.",
        )
    return Finding("clipping", "ok", "Clipping", value, f"No clipping ({peak})." if peak else "No clipping.")


def _loudness(m: Measurements) -> Finding:
    if m.loudness_lufs is None:
        return _unchecked("loudness", "Loudness", m, "Loudness")
    lufs = m.loudness_lufs
    if not math.isfinite(lufs):
        return Finding("loudness", "warning", "Loudness", "silent", "Silent: there is nothing to hear.")
    value = f"{lufs:.0f} LUFS"
    if lufs < VERY_QUIET_LUFS:
        return Finding(
            "loudness", "warning", "Loudness", value,
            f"Very quiet ({lufs:.0f} LUFS): record closer to the microphone or with the input level higher "
            "(normalising, prepare_sample(..., loudness=-20), also raises the noise).",
        )
    if lufs < QUIET_LUFS:
        return Finding(
            "loudness", "advice", "Loudness", value,
            f"Quiet ({lufs:.0f} LUFS; -26 to -12 is comfortable): prepare_sample(..., loudness=-20) evens it out.",
        )
    if lufs > LOUD_LUFS:
        return Finding(
            "loudness", "advice", "Loudness", value,
            f"Very loud ({lufs:.0f} LUFS; -26 to -12 is comfortable): check it is not distorted; "
            "prepare_sample(..., loudness=-20) turns it down.",
        )
    return Finding("loudness", "ok", "Loudness", value, "A comfortable level.")


def _format(m: Measurements) -> Finding:
    bits = [m.format.upper()] if m.format else []
    if m.sample_rate:
        bits.append(f"{m.sample_rate / 1000:g} kHz")
    if m.channels:
        bits.append({1: "mono", 2: "stereo"}.get(m.channels, f"{m.channels} ch"))
    value = ", ".join(bits) or "unknown"
    if m.sample_rate and m.sample_rate < LOW_RATE:
        return Finding(
            "format", "advice", "Audio", value,
            f"Recorded at {m.sample_rate} Hz (telephone quality): record at 44.1 or 48 kHz if you can.",
        )
    note = " (mixed to mono for cloning)" if (m.channels or 1) > 1 else ""
    return Finding("format", "ok", "Audio", value, f"A format Speechgen takes{note}.")
